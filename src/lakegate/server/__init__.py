"""lakegate's HTTP API (`lakegate up --http-port`): FastAPI, ``/v1/...``, OpenAPI at ``/docs``."""
