"""Inputs: the packaged French data, the files people bring (zones, sites), opening hours; no scenario logic."""
