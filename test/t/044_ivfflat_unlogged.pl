# 044_ivfflat_unlogged.pl -- ivfflat indexes on unlogged tables across a crash.
#
# An unlogged table of 2000 clustered rows (32 dimensions) with ivfflat
# indexes on vector l2, halfvec cosine and bit hamming (10 lists), inserted
# into, deleted from and vacuumed. A clean restart keeps everything. After
# an immediate shutdown the table comes back empty from its init fork and
# so must the indexes (built by ambuildempty: metapage, directory with
# random centers, one empty entry page per list): unlogged, valid
# (vx_ivfflat_verify), used by the plan, returning no rows; then they take
# new rows, return each once at probes = lists and keep an exact result
# at probes = lists.
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
	  . ivf_items_sql('items', $d, 1)
	  . ivf_fill_sql('items', 1, 2000, $d, $nc)
	  . ivf_queries_sql('queries', 20, $d, $nc));
$node->safe_psql('postgres', ivf_index_sql('items', $_, $lists)) for @indexes;
$node->safe_psql('postgres', ivf_fill_sql('items', 2001, 2500, $d, $nc) . 'DELETE FROM items WHERE id % 5 = 0; VACUUM items;');
ivf_check_verify($node, 'items', 'before the restarts');
ivf_check_recall($node, 'items', 'before the restarts', 3, indexes => \@indexes);

$node->restart;
is($node->safe_psql('postgres', 'SELECT count(*) FROM items'), '2000', 'a clean restart keeps the rows');
ivf_check_complete($node, 'items', 'after a clean restart', $lists, \@indexes);

$node->stop('immediate');
$node->start;
is($node->safe_psql('postgres', 'SELECT count(*) FROM items'), '0', 'after a crash the unlogged table is empty');
for my $ix (@indexes)
{
	my ($name) = @$ix;
	is($node->safe_psql('postgres', "SELECT relpersistence FROM pg_class WHERE relname = '$name'"), 'u',
		"$name is still unlogged");
	is($node->safe_psql('postgres', "SELECT pg_relation_size('$name') / 8192"), 1 + 1 + $lists,
		"$name is back to its init fork: metapage, one directory page, $lists empty entry pages");
	ivf_check_index_scan($node, 'items', $ix, 'after the crash');
}
ivf_check_verify($node, 'items', 'after the crash');
ivf_check_complete($node, 'items', 'after the crash (no rows)', $lists, \@indexes);

$node->safe_psql('postgres', ivf_fill_sql('items', 1, 1500, $d, $nc));
ivf_check_verify($node, 'items', 'after inserts into the reset indexes');
ivf_check_complete($node, 'items', 'after inserts into the reset indexes', $lists, \@indexes);
ivf_check_recall($node, 'items', 'after inserts into the reset indexes', $lists, indexes => \@indexes, exact => 1);

done_testing();
