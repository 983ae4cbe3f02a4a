# 017_hnsw_verify.pl -- vx_hnsw_verify finds damage.
#
# Identical hnsw indexes (the build is deterministic) are built over the same
# 500 rows; with the server stopped, each gets one kind of damage written
# into its relation file at offsets computed from the page layout of
# include/vx/hnsw/hnsw.h; after a restart vx_hnsw_verify must report exactly
# that damage (and the untouched index nothing), without taking the server
# down. This is what makes "vx_hnsw_verify returns no row" in the other
# tests mean something. Two cases have tables of their own: a slot that
# straddles two vector pages damaged on its second page (vector(158): packed
# slots of 644 bytes), and a metapage of an older format version, which the
# access method refuses with a REINDEX hint (and REINDEX repairs).
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
INSERT INTO t SELECT i, vx_cvec(i, 8, 10)::vector FROM generate_series(1, 500) i;
CREATE TABLE t_straddle (id bigint PRIMARY KEY, v vector(158));
INSERT INTO t_straddle SELECT i, vx_cvec(i, 158, 10)::vector FROM generate_series(1, 100) i;
CREATE TABLE t_oldformat (id bigint PRIMARY KEY, v vector(8));
INSERT INTO t_oldformat SELECT i, vx_cvec(i, 8, 10)::vector FROM generate_series(1, 20) i;});

my @cases = qw(clean magic pgvector geometry entry flags self range slot pagetype unreachable dangling freed level
  zeroed freecycle upper straddle oldformat);
my %table = map { $_ => ($_ eq 'straddle' || $_ eq 'oldformat' ? "t_$_" : 't') } @cases;
$node->safe_psql('postgres', "CREATE INDEX idx_$_ ON $table{$_} USING hnsw (v vector_l2_ops);") for @cases;
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

# vector(158): R records a group and, packed, one run of R slots over the
# group's vector pages (block 3 on); the slot whose version ends its page
# (offset 8152 or 8156 of 8160 bytes) has its dimension count (datum bytes
# 4..5, slot bytes 8..9) at the start of the next page
my $smeta = read_block('straddle', 0);
my ($s_records, $s_slot, $s_run) = unpack('V V V', substr($smeta, $CONTENTS + 24, 12));
is($s_run, $s_records, "vector(158): $s_records slots of $s_slot bytes packed as one run");
my ($s_id, $s_block, $s_off);
for my $i (0 .. $s_records - 1)
{
	my $in_page = ($i * $s_slot) % 8160;
	next unless $in_page + 8 >= 8160;
	($s_id, $s_block, $s_off) = ($i, 3 + int($i * $s_slot / 8160) + 1, $in_page + 8 - 8160);
	last;
}
ok(defined $s_id, "vector(158): element ${s_id}'s dimension count is on the page after its version");

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
write_bytes('straddle', $s_block, $CONTENTS + $s_off, pack('v', 99));
write_bytes('oldformat', 0, $CONTENTS + 4, pack('V', 1));

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
	straddle => qr/^element $s_id: stored vector has 99 dimensions, the index 158$/,
	oldformat => qr/^metapage: format version 1, expected 2$/,
);
for my $case (@cases)
{
	my ($ret, $out, $err) = $node->psql('postgres', "SELECT * FROM vx_hnsw_verify('idx_$case', 0)");
	is($ret, 0, "idx_$case: vx_hnsw_verify runs");
	note("idx_$case:\n$out");
	like($out, $expect{$case}, "idx_$case: vx_hnsw_verify reports the damage");
}
# the access method refuses an index of another format version and says how to repair it
my ($ret, $out, $err) = $node->psql('postgres', q{INSERT INTO t_oldformat VALUES (21, '[1,2,3,4,5,6,7,8]')});
isnt($ret, 0, 'idx_oldformat: an insert is refused');
like($err, qr/ERROR:  index "idx_oldformat" has hnsw format version 1, this extension reads version 2/,
	'idx_oldformat: the error names both format versions');
like($err, qr/HINT:  REINDEX the index to rebuild it in this extension's format\./, 'idx_oldformat: with a REINDEX hint');
($ret, $out, $err) = $node->psql('postgres', q{SET enable_seqscan = off;
SELECT id FROM t_oldformat ORDER BY v <-> '[1,2,3,4,5,6,7,8]' LIMIT 1});
like($err, qr/has hnsw format version 1, this extension reads version 2/, 'idx_oldformat: a scan is refused');
$node->safe_psql('postgres', 'REINDEX INDEX idx_oldformat');
is($node->safe_psql('postgres', q{SELECT * FROM vx_hnsw_verify('idx_oldformat', 0)}), '',
	'idx_oldformat: healthy after REINDEX');
is($node->safe_psql('postgres', q{INSERT INTO t_oldformat VALUES (21, '[1,2,3,4,5,6,7,8]');
SET enable_seqscan = off; SELECT id FROM t_oldformat ORDER BY v <-> '[1,2,3,4,5,6,7,8]' LIMIT 1}), '21',
	'idx_oldformat: after REINDEX it takes inserts and finds them');

# soft findings stay below a tolerance that allows them
is($node->safe_psql('postgres', q{SELECT * FROM vx_hnsw_verify('idx_freed', 1)}), '',
	'idx_freed: links to freed ids are not reported with tolerance 1');
is($node->safe_psql('postgres', q{SELECT * FROM vx_hnsw_verify('idx_unreachable', 1)}), '',
	'idx_unreachable: unreachable elements are not reported with tolerance 1');
is($node->safe_psql('postgres', 'SELECT 1'), '1', 'the server is still up');
unlike(slurp_file($node->logfile), qr/server process .* was terminated/, 'no backend crashed');

$node->stop;
done_testing();
