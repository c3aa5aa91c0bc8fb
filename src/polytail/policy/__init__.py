"""The copy policy: filters, sizing, pricing, exits and risk -> Decision. Pure code."""
