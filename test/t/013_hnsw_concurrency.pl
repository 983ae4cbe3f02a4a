# 013_hnsw_concurrency.pl -- concurrent inserts, updates, deletes, queries and
# VACUUM on one table with hnsw indexes.
#
# pgbench runs 4 clients for 20 seconds over a mix of scripts: inserts of new
# rows, updates that change a row's vectors, deletes, nearest-neighbour
# queries through each index, an occasional VACUUM and vx_hnsw_verify of
# every index (which must find no problem while the others write), all on the same
# clustered table with four hnsw indexes (vector, halfvec, sparsevec, bit).
# pgbench must finish without any failed transaction (an AM deadlock or error
# shows there); afterwards every index must pass vx_hnsw_verify, reach its
# recall@10 against brute force and return rows nearest first by the distance
# recomputed from the heap row.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use VxHnsw;

my ($d, $sd, $bd, $nc) = (32, 200, 128, 100);
my @indexes = @HNSW_INDEXES[ 0, 3, 4, 5 ];

my $node = PostgreSQL::Test::Cluster->new('main');
$node->init;
$node->append_conf('postgresql.conf', "jit = off\nautovacuum = off\ndeadlock_timeout = 100ms\n");
$node->start;

$node->safe_psql('postgres',
	hnsw_setup_sql()
	  . items_sql('items', $d, $sd, $bd)
	  . fill_items_sql('items', 1, 2000, $d, $sd, $bd, $nc)
	  . queries_sql('queries', 50, $d, $sd, $bd, $nc));
$node->safe_psql('postgres', index_sql('items', $_)) for @indexes;

my $row = sub {
	my ($i) = @_;
	return "vx_cvec($i, $d, $nc)::vector, vx_cvec($i, $d, $nc)::halfvec, vx_csparse($i, $sd, $nc)::sparsevec,"
	  . " vx_cbits($i, $bd, $nc)::bit($bd)";
};
my %scripts = (
	'013_insert@8' => "\\set i random(10000000, 99999999)\n"
	  . 'INSERT INTO items SELECT :i, ' . $row->(':i') . " ON CONFLICT DO NOTHING;\n",
	'013_update@3' => "\\set i random(1, 2000)\n\\set j random(10000000, 99999999)\n"
	  . "UPDATE items SET (v, h, s, b) = (SELECT " . $row->(':j') . ") WHERE id = :i;\n",
	'013_delete@2' => "\\set i random(1, 2000)\nDELETE FROM items WHERE id = :i;\n",
	'013_query@8' => "\\set q random(1000000001, 1000000050)\nSET enable_seqscan = off;\n"
	  . join('', map { my ($n, $c, $o, $op) = @$_;
		  "SELECT id FROM items ORDER BY $c $op (SELECT $c FROM queries WHERE id = :q) LIMIT 10;\n" } @indexes),
	'013_vacuum@1' => "VACUUM items;\n",
	# vx_hnsw_verify while the others write (structure only: an element whose
	# back-links are being written is briefly unreachable); a problem aborts
	# the client with an error that quotes it (its text is no integer)
	'013_verify@1' => "SELECT coalesce(string_agg(i.indexrelid::regclass || ': ' || p, '; '), '0')::int"
	  . " FROM pg_index i CROSS JOIN LATERAL vx_hnsw_verify(i.indexrelid, 1) p"
	  . " WHERE i.indrelid = 'items'::regclass AND i.indexrelid <> 'items_pkey'::regclass;\n",
);
$node->pgbench('--no-vacuum --client=4 --jobs=2 --time=20', 0,
	[ qr{processed: \d+}, qr{number of failed transactions: 0 } ],
	[qr{^$}], 'pgbench mix of inserts, updates, deletes, queries and VACUUM', \%scripts);

my $rows = $node->safe_psql('postgres', 'SELECT count(*) FROM items');
cmp_ok($rows, '>', 2000, "the table grew to $rows rows");
check_verify($node, 'items', 'after the concurrent mix');
check_index_scan($node, 'items', $_, 'after the concurrent mix') for @indexes;
check_recall($node, 'items', 'after the concurrent mix', \@indexes);
check_order($node, 'items', 'after the concurrent mix', \@indexes);

# One more VACUUM with nothing running, then again.
$node->safe_psql('postgres', 'VACUUM items');
check_verify($node, 'items', 'after a final VACUUM');
check_recall($node, 'items', 'after a final VACUUM', \@indexes);

$node->stop;
done_testing();
