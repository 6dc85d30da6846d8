"""The WSGI entry point that Zappa's API stage serves (`app_function`)."""

from ingest_api import create_app

app = create_app()
