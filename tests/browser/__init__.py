"""Tests that drive a real chromium against the app served on a local port."""
