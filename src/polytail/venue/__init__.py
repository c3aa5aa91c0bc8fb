"""The Polymarket venue: Gamma, CLOB, Data API, chain logs, live streams and the SDK.

The only layer that knows the venue's URLs, shapes, rate limits and error texts. It hands
domain types upward, so the venue's churn stops here.
"""
