"""Cancel Shipper B2C sales orders in bulk."""

__version__ = "0.2.0"
