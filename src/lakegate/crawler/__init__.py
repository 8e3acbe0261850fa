"""The crawler's inference: what a file is (``detect``), its dialect (``dialect``), its columns
and their types (``infer``, one module per format, ``column_types``, ``temporal``), the
statistics of a full read (``stats``), and readable copies of files the engine cannot read in
place (``normalize``). Cataloging what it finds is done by ingest (``ingest/pipeline.py`` for
deliveries, ``ingest/crawl.py`` for files where they lie)."""
