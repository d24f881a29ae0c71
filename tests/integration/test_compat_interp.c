/*
 * Interpreters linked statically from Debian's own libraries, natively and
 * in airlock: same stdout, same status. Scripts are in tests/compat/data.
 * Lua from stdin needs no files (`compat`); every Python case needs the
 * standard library drive and so the filesystem (`compat_fs`).
 */
#include "compat.h"

COMPAT_STDIO(lua_command_line,
	     LUA("-e",
		 "print(#arg, arg[1], ('ab'):rep(3), 2^53 + 1, 10 // 3, "
		 "string.format('%g', 0.1 + 0.2))",
		 "first"))
COMPAT_STDIO(lua_script_from_stdin, LUA("-"),
	     .stdin_file = "data/scripts/pure.lua")
COMPAT_STDIO(lua_runtime_error_is_status_1,
	     LUA("-e", "local t = nil; print('before'); return t.field"),
	     .status = 1)
COMPAT_STDIO(lua_os_exit_status, LUA("-e", "io.write('bye\\n'); os.exit(9)"),
	     .status = 9)

COMPAT_DRIVE(lua_script_file, LUA("data/scripts/pure.lua"))
COMPAT_DRIVE(lua_reads_csv_file,
	     LUA("data/scripts/stats.lua", "data/table.csv"))
COMPAT_DRIVE(lua_sums_lines_of_big_file,
	     LUA("-e", "local s, n = 0, 0 for l in io.lines('data/big.txt') do "
		       "s = s + tonumber(l); n = n + 1 end print(n, s)"))

COMPAT_DRIVE(python_one_liner, PYTHON("-c", "print(sum(range(10**6)), "
					    "'%.4f' % (2 ** 0.5))"))
COMPAT_DRIVE(python_json_re_hashlib_collections,
	     PYTHON("data/scripts/text.py", "data"))
COMPAT_DRIVE(python_exception_is_status_1,
	     PYTHON("-c", "print('before', flush=True); {}['missing']"),
	     .status = 1)
COMPAT_DRIVE(python_sys_exit_status,
	     PYTHON("-c", "import sys; print('bye'); sys.exit(5)"), .status = 5)
COMPAT_DRIVE(python_lists_directory,
	     PYTHON("-c", "import os; print(sorted(os.listdir('data/tree'))); "
			  "print(os.path.getsize('data/big.txt'), "
			  "os.path.islink('data/tree/poem-link'))"))
COMPAT_DRIVE(python_module_json_tool,
	     PYTHON("-m", "json.tool", "--sort-keys", "data/doc.json"))
COMPAT_DRIVE(python_walk_and_checksums,
	     PYTHON("-c", "import hashlib, os, zlib\n"
			  "for d, ds, fs in sorted(os.walk('data/tree')):\n"
			  "    print(d, sorted(ds), sorted(fs))\n"
			  "for n in ('big.txt', 'sparse.bin'):\n"
			  "    b = open('data/' + n, 'rb').read()\n"
			  "    print(n, len(b), zlib.crc32(b), "
			  "hashlib.sha256(b).hexdigest())"))
