# 017_hnsw_verify.pl -- vx_hnsw_verify finds damage.
#
# Identical hnsw indexes (the build is deterministic) are built over the same
# 500 rows; with the server stopped, each gets one kind of damage written
# into its relation file at offsets computed from the page layout of
# include/vx/hnsw/hnsw.h; after a restart vx_hnsw_verify must report exactly
# that damage (and the untouched index nothing), without taking the server
# down. This is what makes "vx_hnsw_verify returns no row" in the other
# tests mean something.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Fcntl qw(SEEK_SET);
use VxHnsw;

my $BLCKSZ = 8192;
my $CONTENTS = 24;    # MAXALIGN(SizeOfPageHeaderData): PageGetContents
my $SPECIAL = $BLCKSZ - 8;    # HnswPageOpaqueData: page_type, flags, unused, page_id (uint16 each)

my $node = PostgreSQL::Test::Cluster->new('main');
$node->init;
$node->append_conf('postgresql.conf', "jit = off\nautovacuum = off\n");
$node->start;
$node->safe_psql('postgres', hnsw_setup_sql() . q{
CREATE TABLE t (id bigint PRIMARY KEY, v vector(8));
INSERT INTO t SELECT i, vx_cvec(i, 8, 10)::vector FROM generate_series(1, 500) i;});

my @cases = qw(clean magic pgvector geometry entry flags self range slot pagetype unreachable dangling freed level
  zeroed freecycle upper);
$node->safe_psql('postgres', "CREATE INDEX idx_$_ ON t USING hnsw (v vector_l2_ops);") for @cases;
my %file = map {
	$_ => $node->data_dir . '/' . $node->safe_psql('postgres', "SELECT pg_relation_filepath('idx_$_')")
} @cases;
is($node->safe_psql('postgres', "SELECT * FROM vx_hnsw_verify('idx_$_', 0)"), '', "idx_$_ is healthy before the damage")
  for @cases;
$node->stop;

# raw page access
sub read_block
{
	my ($case, $blk) = @_;
	open(my $fh, '<:raw', $file{$case}) or die "open $file{$case}: $!";
	sysseek($fh, $blk * $BLCKSZ, SEEK_SET);
	sysread($fh, my $page, $BLCKSZ) == $BLCKSZ or die "short read";
	close $fh;
	return $page;
}

sub write_bytes
{
	my ($case, $blk, $off, $bytes) = @_;
	open(my $fh, '+<:raw', $file{$case}) or die "open $file{$case}: $!";
	sysseek($fh, $blk * $BLCKSZ + $off, SEEK_SET);
	syswrite($fh, $bytes) == length($bytes) or die "short write";
	close $fh;
}

# metapage fields (HnswMetaPageData)
my $meta = read_block('clean', 0);
my ($magic, $version, $dims, $kind, $metric, $m, $efc, $record_size, $records_per_page, $slot_size, $vectors_per_page) =
  unpack('V V V v v v v V V V V', substr($meta, $CONTENTS, 44));
my ($entry_id, $entry_level) = unpack('V s', substr($meta, $CONTENTS + 48, 6));
my ($next_id) = unpack('V', substr($meta, $CONTENTS + 56, 4));
is(sprintf('%08X', $magic), '56584E48', 'the metapage carries the VXNH magic');
is($next_id, 500, 'next_id is 500');

# block 1 is extent 0's upper page, block 2 the graph page of group 0, block 3 its first vector page
my $graph = read_block('clean', 2);
sub record_at
{
	my ($i) = @_;
	my $off = $CONTENTS + $i * $record_size;
	my ($flags, $level, $n, $ver, $bhi, $blo, $pos, $upper, $next_free) = unpack('C C v V v v v v V', substr($graph, $off, 20));
	my @nb = unpack("V$n", substr($graph, $off + 20, 4 * $n));
	return { off => $off, flags => $flags, level => $level, n => $n, version => $ver, upper => $upper, nb => \@nb };
}
my $rec = sub { record_at($_[0]) };
my ($level0) = grep { $rec->($_)->{level} == 0 } 1 .. 40;
# a link between two elements of block 2, neither the entry point
my ($src, $dst);
for my $i (0 .. $records_per_page - 1)
{
	($dst) = grep { $_ < $records_per_page && $_ != $entry_id } @{ $rec->($i)->{nb} };
	if (defined $dst && $i != $entry_id) { $src = $i; last; }
}
ok(defined $src, "element $src links to element $dst on the same graph page (entry point: $entry_id)");
ok($entry_id < $records_per_page && $entry_level >= 1, "the entry point $entry_id (level $entry_level) is on block 2");

# the damage, one kind per index
write_bytes('magic', 0, $CONTENTS, pack('V', 0x12345678));
write_bytes('pgvector', 0, $CONTENTS, pack('V', 0xA953A953));
write_bytes('geometry', 0, $CONTENTS + 24, pack('V', $records_per_page + 1));
write_bytes('entry', 0, $CONTENTS + 48, pack('V', $next_id + 10));
write_bytes('flags', 2, $rec->(3)->{off}, pack('C', 7));
write_bytes('self', 2, $rec->(5)->{off} + 20, pack('V', 5));
write_bytes('range', 2, $rec->(6)->{off} + 20, pack('V', 0xFFFFFFF0));
write_bytes('slot', 3, $CONTENTS + 2 * $slot_size, pack('V', 99));
write_bytes('pagetype', 3, $SPECIAL, pack('v', 3));
write_bytes('unreachable', 2, $rec->($entry_id)->{off} + 2, pack('v', 0));
write_bytes('dangling', 2, $rec->($dst)->{off}, pack('C', 0));
write_bytes('dangling', 2, $rec->($dst)->{off} + 4, pack('V', 0));
write_bytes('freed', 2, $rec->($dst)->{off}, pack('C', 0));
write_bytes('level', 2, $rec->($level0)->{off} + 1, pack('C', 2));
write_bytes('zeroed', 2, 0, "\0" x $BLCKSZ);
write_bytes('freecycle', 0, $CONTENTS + 60, pack('V', 4));
write_bytes('freecycle', 2, $rec->(4)->{off}, pack('C', 0));
write_bytes('freecycle', 2, $rec->(4)->{off} + 16, pack('V', 4));
write_bytes('upper', 2, $rec->($entry_id)->{off} + 14, pack('v', 200));

$node->start;
my %expect = (
	clean => qr/^$/,
	magic => qr/^metapage: magic 12345678, expected 56584E48$/,
	pgvector => qr/^metapage: magic A953A953, expected 56584E48 \(built by pgvector\)$/,
	geometry => qr/^metapage: records_per_page is ${\($records_per_page + 1)}, the geometry gives $records_per_page$/,
	entry => qr/^metapage: entry point ${\($next_id + 10)} is not below next_id $next_id$/m,
	flags => qr/^element 3: invalid record flags 0x07$/m,
	self => qr/^element 5: links to itself at level 0$/m,
	range => qr/^element 6: neighbour 4294967280 at level 0 is not below next_id 500$/m,
	slot => qr/^element 2: vector slot version 99, record version 1$/,
	pagetype => qr/^block 3: page type 3, the geometry gives 4$/m,
	unreachable => qr/^reachability: 499 of 500 live elements are not reachable from the entry point at level 0/m,
	dangling => qr/^element \d+: neighbour $dst at level 0 is not in the graph \(flags 0x00\)$/m,
	freed => qr/^links: \d+ links name freed ids \(first: element \d+ -> $dst at level 0; tolerance 0\)$/m,
	level => qr/^element $level0: level 2 with upper item offset 0$/m,
	zeroed => qr/^block 2: uninitialized, but allocated ids need blocks up to \d+$/m,
	freecycle => qr/^free list: cycle at element 4$/m,
	upper => qr/^element $entry_id: level $entry_level but no upper item of its own at offset 200 of block 1$/m,
);
for my $case (@cases)
{
	my ($ret, $out, $err) = $node->psql('postgres', "SELECT * FROM vx_hnsw_verify('idx_$case', 0)");
	is($ret, 0, "idx_$case: vx_hnsw_verify runs");
	note("idx_$case:\n$out");
	like($out, $expect{$case}, "idx_$case: vx_hnsw_verify reports the damage");
}
# soft findings stay below a tolerance that allows them
is($node->safe_psql('postgres', q{SELECT * FROM vx_hnsw_verify('idx_freed', 1)}), '',
	'idx_freed: links to freed ids are not reported with tolerance 1');
is($node->safe_psql('postgres', q{SELECT * FROM vx_hnsw_verify('idx_unreachable', 1)}), '',
	'idx_unreachable: unreachable elements are not reported with tolerance 1');
is($node->safe_psql('postgres', 'SELECT 1'), '1', 'the server is still up');
unlike(slurp_file($node->logfile), qr/server process .* was terminated/, 'no backend crashed');

$node->stop;
done_testing();
