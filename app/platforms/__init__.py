"""Webinar platforms (Zoom, GoTo): registrants pushed, attendance pulled, by the worker."""
