"""What several test folders (and the benchmarks) share: record factories, synthetic label sets, the
DAVIS toolkit's straight port, reference implementations of the memory operators. On the path
through pytest's ``pythonpath`` (pyproject.toml): ``from support.records import make_record``."""
