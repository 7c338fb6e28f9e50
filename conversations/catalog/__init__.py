"""The model catalog staff keep in the database (models, selectors, services); the
catalog in memory that turns read is provider/catalog.py."""
