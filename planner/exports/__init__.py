"""Exports: a job result in, files and maps out (CSV, GeoPackage, GeoJSON, iCalendar, sheets, HTML maps)."""
