"""The crawler: what a file is, what its columns are, and how its schema joins its table's."""
