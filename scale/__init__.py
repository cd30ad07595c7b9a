"""Tooling to load, time and break a Grassroots site; never installed in production."""
