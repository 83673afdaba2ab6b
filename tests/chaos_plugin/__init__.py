"""Tests of chaos's pytest plugin, and the planted-bug system the property
tests share (``planted.py``)."""
