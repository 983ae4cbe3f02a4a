# 041_ivfflat_concurrency.pl -- concurrent inserts, deletes, queries, VACUUM
# and vx_ivfflat_verify on ivfflat indexes.
#
# 2000 rows of 32 dimensions in 10 clusters with ivfflat indexes on vector
# l2, halfvec cosine and bit hamming, 10 lists (so lists overflow their
# pages and get new pages while other backends append to them). pgbench
# runs 4 clients for 20 seconds over inserts, deletes, index queries,
# vx_ivfflat_verify and VACUUM; every statement must succeed. Then the
# indexes must verify clean, return every row exactly once at probes =
# lists (no entry lost or duplicated by racing appends), and keep their
# recall against brute force.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use VxIvfflat;

my ($d, $nc, $lists) = (32, 10, 10);
my @indexes = @IVFFLAT_INDEXES[ 0, 5, 6 ];

my $node = PostgreSQL::Test::Cluster->new('main');
$node->init;
$node->append_conf('postgresql.conf', "jit = off\nautovacuum = off\n");
$node->start;
$node->safe_psql('postgres',
	ivfflat_setup_sql()
	  . ivf_items_sql('items', $d)
	  . ivf_fill_sql('items', 1, 2000, $d, $nc)
	  . ivf_queries_sql('queries', 30, $d, $nc));
$node->safe_psql('postgres', ivf_index_sql('items', $_, $lists)) for @indexes;

my %scripts = (
	'041_insert@10' => "\\set j random(10000000, 99999999)\n"
	  . "INSERT INTO items SELECT :j, a::vector, a::halfvec, binary_quantize(a::vector) FROM vx_cvec(:j, $d, $nc) a"
	  . " ON CONFLICT DO NOTHING;\n",
	'041_delete@2' => "\\set i random(1, 2000)\nDELETE FROM items WHERE id = :i;\n",
	'041_query@6' => "\\set q random(1000000001, 1000000030)\nSET enable_seqscan = off;\nSET ivfflat.probes = 3;\n"
	  . join('', map { my ($n, $c, $o, $op) = @$_;
		  "SELECT id FROM items ORDER BY $c $op (SELECT $c FROM queries WHERE id = :q) LIMIT 10;\n" } @indexes),
	'041_verify@1' => "SELECT count(*) FROM vx_ivfflat_verify('items_v_l2');\n",
	'041_vacuum@1' => "VACUUM items;\n",
);
$node->pgbench('--no-vacuum --client=4 --jobs=2 --time=20', 0,
	[ qr{processed: \d+}, qr{number of failed transactions: 0 } ],
	[qr{^$}], 'pgbench mix of inserts, deletes, queries, verify and VACUUM', \%scripts);

my $rows = $node->safe_psql('postgres', 'SELECT count(*) FROM items');
cmp_ok($rows, '>', 2000, "the table grew to $rows rows");
ivf_check_verify($node, 'items', 'after the concurrent mix');
ivf_check_complete($node, 'items', 'after the concurrent mix', $lists, \@indexes);
ivf_check_recall($node, 'items', 'after the concurrent mix', 3, indexes => \@indexes);

$node->safe_psql('postgres', 'VACUUM items');
ivf_check_verify($node, 'items', 'after a final VACUUM');
ivf_check_complete($node, 'items', 'after a final VACUUM', $lists, \@indexes);
ivf_check_recall($node, 'items', 'after a final VACUUM', $lists, indexes => \@indexes, exact => 1);

done_testing();
