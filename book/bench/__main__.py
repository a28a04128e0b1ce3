"""`python -m book.bench {conv,lenet,widget} [options]`: each benchmark prints a table, then one JSON line."""
import importlib
import sys

BENCHMARKS = {"conv": "book.bench.conv", "lenet": "book.bench.lenet", "widget": "book.bench.widget"}


def main(argv: list) -> int:
    if not argv or argv[0] not in BENCHMARKS:
        print(f"usage: python -m book.bench {{{','.join(BENCHMARKS)}}} [options]", file=sys.stderr)
        return 2
    return importlib.import_module(BENCHMARKS[argv[0]]).main(argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
