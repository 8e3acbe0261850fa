"""Put the S3A filesystem jars (hadoop-aws 3.3.1 and the AWS SDK bundle it was built with) in
the folder given, for the tests' Spark Connect server to read a lake on S3.

Maven is not reachable from this project's machines; the jars come from the one registry
package found to carry both, the source distribution of ``sagemaker-pyspark`` (its ``deps/jars``),
downloaded without installing it. A real cluster takes the hadoop-aws of its own Hadoop version
instead (``deploy/spark/spark-defaults.conf``).

    python scripts/spark_s3a_jars.py .venv/spark-jars
"""

from __future__ import annotations

import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

PACKAGE = "sagemaker-pyspark==1.4.5"
JARS = ("hadoop-aws-3.3.1.jar", "aws-java-sdk-bundle-1.11.901.jar")


def main(target: Path) -> None:
    if all((target / jar).exists() for jar in JARS):
        return
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
             PACKAGE, "-d", tmp],
            check=True,
        )  # fmt: skip
        [archive] = Path(tmp).glob("sagemaker_pyspark-*.tar.gz")
        with tarfile.open(archive) as tar:
            for member in tar.getmembers():
                name = member.name.rsplit("/", 1)[-1]
                if name in JARS and "/deps/jars/" in member.name:
                    source = tar.extractfile(member)
                    assert source is not None
                    partial = target / f"{name}.part"
                    partial.write_bytes(source.read())
                    partial.rename(target / name)
    missing = [jar for jar in JARS if not (target / jar).exists()]
    if missing:
        raise SystemExit(f"{PACKAGE} no longer carries {', '.join(missing)}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
