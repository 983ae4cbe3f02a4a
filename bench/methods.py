"""Index methods the suite benchmarks: one small description each, all in this file.

Adding a method is one entry in METHODS. The suite builds it with `ddl` (placeholders
{index} {table} {column} {am} {opclass} {with}), sweeps `search_guc` over `search_values`,
and uses `default_search` for the filtered and cold-cache runs. `graph_params` maps the
suite's common graph parameters (M, ef_construction, also given to hnswlib and faiss) onto
the method's WITH options so that all systems build comparable graphs. `memlimit_sweeps`
adds settings the memlimit scenario also sweeps (e.g. diskann's rescore depth, which decides
how many heap reads a query makes). `sized_options` derives options from the table's row
count (ivfflat's lists). A method whose access method is not in pg_am is skipped
with a notice, so entries may precede their code. An `opt_in` method runs only when named
in `--methods` (e.g. `--methods diskann,diskann_plain`).

The exact scan (no index) is not a method here: it always runs, as the recall-1.0 baseline.
"""
from dataclasses import dataclass, field


@dataclass
class Method:
    """How to build and tune one index access method."""
    name: str                   # label in reports
    am: str                     # pg_am.amname
    opclass: dict               # metric ("l2" | "cosine" | "ip") -> operator class
    options: dict               # default WITH (...) options
    search_guc: str             # the search-breadth setting swept
    search_values: list         # its sweep, ascending
    default_search: int         # value for the filtered and cold-cache runs
    graph_params: dict = field(default_factory=dict)   # "M" / "ef_construction" -> option name
    filter_gucs: dict = field(default_factory=dict)    # extra settings for filtered queries
    # memlimit scenario: further settings swept, {guc: [values]}; each value is one more
    # curve over a few of search_values (the main curve leaves the setting at its default)
    memlimit_sweeps: dict = field(default_factory=dict)
    # options that depend on the number of rows indexed: rows -> {option: value}
    sized_options: object = None
    # only run when named in --methods (a variant measured on request, not in every scenario)
    opt_in: bool = False
    ddl: str = "CREATE INDEX {index} ON {table} USING {am} ({column} {opclass}){with}"

    def with_options(self, graph, rows=None):
        """The WITH options for this build: defaults, then those sized for `rows` rows,
        overridden by the common graph parameters the method understands."""
        opts = dict(self.options)
        if self.sized_options is not None and rows is not None:
            opts.update(self.sized_options(rows))
        for common, option in self.graph_params.items():
            if common in graph:
                opts[option] = graph[common]
        return opts

    def create_sql(self, index, table, column, metric, opts):
        """The CREATE INDEX statement for a metric and options."""
        with_clause = ""
        if opts:
            with_clause = " WITH (" + ", ".join(f"{k} = {_literal(v)}" for k, v in opts.items()) + ")"
        return self.ddl.format(**{"index": index, "table": table, "column": column, "am": self.am,
                                  "opclass": self.opclass[metric], "with": with_clause})


def _literal(v):
    """A reloption value in SQL: numbers bare, strings quoted."""
    return str(v) if isinstance(v, (int, float)) else "'" + str(v).replace("'", "''") + "'"


OPS = {"l2": "vector_l2_ops", "cosine": "vector_cosine_ops", "ip": "vector_ip_ops"}


def ivfflat_lists(rows):
    """pgvector's advice for lists: rows / 1000 up to 1M rows, sqrt(rows) above."""
    if rows <= 1_000_000:
        return {"lists": max(1, rows // 1000)}
    return {"lists": int(rows ** 0.5)}


METHODS = {
    "hnsw": Method(
        name="hnsw", am="hnsw", opclass=OPS,
        options={"m": 16, "ef_construction": 64},
        graph_params={"M": "m", "ef_construction": "ef_construction"},
        search_guc="hnsw.ef_search", search_values=[10, 20, 40, 80, 120, 200, 400, 800],
        default_search=40,
        filter_gucs={"hnsw.iterative_scan": "relaxed_order"},
    ),
    "diskann": Method(
        name="diskann", am="diskann", opclass=OPS,
        options={"num_neighbors": 50, "search_list_size": 100, "max_alpha": 1.2},
        search_guc="diskann.query_search_list_size", search_values=[10, 20, 40, 75, 100, 200, 400, 800],
        default_search=100,
        memlimit_sweeps={"diskann.query_rescore": [10, 50, 200]},
    ),
    # the same graph with storage_layout plain: the re-rank reads the full vectors from the
    # index's vector pages instead of the heap (one more vector page a candidate, no heap
    # or TOAST read), so its rows are the diskann rows above with the index tier measured
    "diskann_plain": Method(
        name="diskann_plain", am="diskann", opclass=OPS,
        options={"num_neighbors": 50, "search_list_size": 100, "max_alpha": 1.2, "storage_layout": "plain"},
        search_guc="diskann.query_search_list_size", search_values=[10, 20, 40, 75, 100, 200, 400, 800],
        default_search=100,
        memlimit_sweeps={"diskann.query_rescore": [10, 50, 200]},
        opt_in=True,
    ),
    "ivfflat": Method(
        name="ivfflat", am="ivfflat", opclass=OPS,
        options={"lists": 100},
        sized_options=ivfflat_lists,
        search_guc="ivfflat.probes", search_values=[1, 2, 4, 8, 16, 32, 64, 128],
        default_search=10,
        filter_gucs={"ivfflat.iterative_scan": "relaxed_order"},
    ),
}
