"""Maillage planner: territory data, travel times, coverage, scenarios, exports, CLI."""
