"""Helpers shared by every test suite (the v4 OpenAPI checker lives in `openapi.py`)."""
