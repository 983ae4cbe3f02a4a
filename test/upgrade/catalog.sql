-- catalog.sql -- one line per fact of the vector extension's catalog, sorted
-- (TAP 050 compares these lines between an updated and a fresh install).
-- OIDs never appear: objects are named by pg_describe_object and reg* types.
WITH ext AS (SELECT oid, extnamespace FROM pg_extension WHERE extname = 'vector'),
members AS (
	SELECT d.classid, d.objid, d.objsubid FROM pg_depend d, ext
	WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid = ext.oid AND d.deptype = 'e'
),
fn AS (SELECT p.* FROM pg_proc p JOIN members m ON m.classid = 'pg_proc'::regclass AND m.objid = p.oid),
lines AS (
	SELECT 'version ' || extversion FROM pg_extension WHERE extname = 'vector'
	UNION ALL
	SELECT 'extension comment ' || coalesce(obj_description(e.oid, 'pg_extension'), '-') FROM ext e
	UNION ALL
	SELECT 'member ' || pg_describe_object(classid, objid, objsubid) FROM members
	UNION ALL
	-- every dependency of a member object, and of the array types on theirs
	-- (user tables' dependencies on the types are not the extension's)
	SELECT 'depend ' || pg_describe_object(d.classid, d.objid, d.objsubid) || ' -> '
		|| pg_describe_object(d.refclassid, d.refobjid, d.refobjsubid) || ' ' || d.deptype::text
	FROM pg_depend d
	WHERE (d.classid, d.objid) IN (SELECT classid, objid FROM members)
	   OR ((d.refclassid, d.refobjid) IN (SELECT classid, objid FROM members)
		   AND d.classid = 'pg_type'::regclass)
	UNION ALL
	-- dependencies of the parts of opclasses and opfamilies (pg_amop, pg_amproc)
	SELECT 'depend ' || pg_describe_object(d.classid, d.objid, d.objsubid) || ' -> '
		|| pg_describe_object(d.refclassid, d.refobjid, d.refobjsubid) || ' ' || d.deptype::text
	FROM pg_depend d
	WHERE d.classid IN ('pg_amop'::regclass, 'pg_amproc'::regclass)
	  AND (d.refclassid, d.refobjid) IN (SELECT classid, objid FROM members)
	UNION ALL
	SELECT format('function %s returns %s%s src=%s bin=%s lang=%s vol=%s strict=%s parallel=%s cost=%s rows=%s kind=%s secdef=%s leak=%s args=%s defaults=%s config=%s',
		p.oid::regprocedure, CASE WHEN p.proretset THEN 'setof ' ELSE '' END, p.prorettype::regtype,
		p.prosrc, p.probin, (SELECT lanname FROM pg_language l WHERE l.oid = p.prolang), p.provolatile,
		p.proisstrict, p.proparallel, p.procost, p.prorows, p.prokind, p.prosecdef, p.proleakproof,
		pg_get_function_arguments(p.oid), pg_get_expr(p.proargdefaults, 0), p.proconfig)
	FROM fn p
	UNION ALL
	SELECT format('operator %s result=%s code=%s com=%s neg=%s rest=%s join=%s merge=%s hash=%s',
		o.oid::regoperator, o.oprresult::regtype, o.oprcode, nullif(o.oprcom, 0)::regoperator,
		nullif(o.oprnegate, 0)::regoperator, o.oprrest, o.oprjoin, o.oprcanmerge, o.oprcanhash)
	FROM pg_operator o JOIN members m ON m.classid = 'pg_operator'::regclass AND m.objid = o.oid
	UNION ALL
	SELECT format('opclass %s am=%s type=%s default=%s family=%s keytype=%s',
		c.opcname, a.amname, c.opcintype::regtype, c.opcdefault, f.opfname, c.opckeytype)
	FROM pg_opclass c JOIN pg_am a ON a.oid = c.opcmethod JOIN pg_opfamily f ON f.oid = c.opcfamily
	JOIN members m ON m.classid = 'pg_opclass'::regclass AND m.objid = c.oid
	UNION ALL
	SELECT format('amop %s %s strategy=%s op=%s purpose=%s sortfamily=%s types=%s,%s',
		a.amname, f.opfname, o.amopstrategy, o.amopopr::regoperator, o.amoppurpose,
		(SELECT opfname FROM pg_opfamily WHERE oid = o.amopsortfamily), o.amoplefttype::regtype, o.amoprighttype::regtype)
	FROM pg_amop o JOIN pg_opfamily f ON f.oid = o.amopfamily JOIN pg_am a ON a.oid = f.opfmethod
	JOIN members m ON m.classid = 'pg_opfamily'::regclass AND m.objid = f.oid
	UNION ALL
	SELECT format('amproc %s %s num=%s proc=%s types=%s,%s',
		a.amname, f.opfname, p.amprocnum, p.amproc::regprocedure, p.amproclefttype::regtype, p.amprocrighttype::regtype)
	FROM pg_amproc p JOIN pg_opfamily f ON f.oid = p.amprocfamily JOIN pg_am a ON a.oid = f.opfmethod
	JOIN members m ON m.classid = 'pg_opfamily'::regclass AND m.objid = f.oid
	UNION ALL
	SELECT format('cast %s -> %s func=%s context=%s method=%s',
		c.castsource::regtype, c.casttarget::regtype, nullif(c.castfunc, 0)::regprocedure, c.castcontext, c.castmethod)
	FROM pg_cast c JOIN members m ON m.classid = 'pg_cast'::regclass AND m.objid = c.oid
	UNION ALL
	SELECT format('aggregate %s kind=%s trans=%s final=%s combine=%s serial=%s deserial=%s mtrans=%s transtype=%s init=%s finalextra=%s finalmodify=%s sortop=%s',
		g.aggfnoid::regprocedure, g.aggkind, g.aggtransfn, g.aggfinalfn, g.aggcombinefn, g.aggserialfn, g.aggdeserialfn,
		g.aggmtransfn, g.aggtranstype::regtype, g.agginitval, g.aggfinalextra, g.aggfinalmodify, g.aggsortop)
	FROM pg_aggregate g JOIN fn p ON p.oid = g.aggfnoid
	UNION ALL
	SELECT format('type %s len=%s byval=%s type=%s category=%s preferred=%s delim=%s in=%s out=%s recv=%s send=%s modin=%s modout=%s analyze=%s align=%s storage=%s array=%s elem=%s defined=%s',
		t.oid::regtype, t.typlen, t.typbyval, t.typtype, t.typcategory, t.typispreferred, t.typdelim, t.typinput,
		t.typoutput, t.typreceive, t.typsend, t.typmodin, t.typmodout, t.typanalyze, t.typalign, t.typstorage,
		nullif(t.typarray, 0)::regtype, nullif(t.typelem, 0)::regtype, t.typisdefined)
	FROM pg_type t JOIN members m ON m.classid = 'pg_type'::regclass AND m.objid = t.oid
	UNION ALL
	SELECT format('am %s type=%s handler=%s', a.amname, a.amtype, a.amhandler)
	FROM pg_am a JOIN members m ON m.classid = 'pg_am'::regclass AND m.objid = a.oid
	UNION ALL
	SELECT format('comment %s: %s', pg_describe_object(d.classoid, d.objoid, d.objsubid), d.description)
	FROM pg_description d JOIN members m ON m.classid = d.classoid AND m.objid = d.objoid
)
SELECT * FROM lines AS l(line) ORDER BY 1;
