/*
 * A minimal stand-alone Lua 5.4 interpreter, linked statically against
 * Debian's liblua5.4.a so that it can run as an airlock job:
 *   lua SCRIPT [ARG...]   run a script file, `arg` holds SCRIPT and ARGs
 *   lua - [ARG...]        run the script read from standard input
 *   lua -e CODE [ARG...]  run CODE
 * Exits 0 on success, 1 with "lua: message" on stderr on any Lua error.
 */
#include <stdio.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

static void usage(void)
{
	fputs("usage: lua SCRIPT [ARG...] | lua - [ARG...] | "
	      "lua -e CODE [ARG...]\n",
	      stderr);
}

/* The global `arg`: arg[0] is the script (the code, for -e), arg[1..] what
 * follows it; what precedes gets negative indices, as in the reference lua. */
static void set_args(lua_State *L, int argc, char **argv, int script)
{
	lua_createtable(L, argc - script, script + 1);
	for (int i = 0; i < argc; i++) {
		lua_pushstring(L, argv[i]);
		lua_rawseti(L, -2, i - script);
	}
	lua_setglobal(L, "arg");
}

/* Loads the chunk named by argv[script] (and argv[script + 1] for -e). */
static int load_chunk(lua_State *L, char **argv, int *script)
{
	const char *what = argv[*script];
	if (strcmp(what, "-e") == 0) {
		*script += 1;
		return luaL_loadbuffer(L, argv[*script], strlen(argv[*script]),
				       "=(command line)");
	}
	/* luaL_loadfile reads standard input when given NULL. */
	return luaL_loadfile(L, strcmp(what, "-") == 0 ? NULL : what);
}

/* Adds a traceback to a runtime error, as the reference interpreter does. */
static int traceback(lua_State *L)
{
	luaL_traceback(L, L, lua_tostring(L, 1), 1);
	return 1;
}

int main(int argc, char **argv)
{
	if (argc < 2 || (strcmp(argv[1], "-e") == 0 && argc < 3)) {
		usage();
		return 2;
	}
	lua_State *L = luaL_newstate();
	if (!L) {
		fputs("lua: cannot create a Lua state: out of memory\n",
		      stderr);
		return 1;
	}
	luaL_openlibs(L);
	int script = 1;
	lua_pushcfunction(L, traceback);
	int rc = load_chunk(L, argv, &script);
	if (rc == LUA_OK) {
		set_args(L, argc, argv, script);
		rc = lua_pcall(L, 0, 0, 1);
	}
	if (rc != LUA_OK)
		fprintf(stderr, "lua: %s\n", lua_tostring(L, -1));
	lua_close(L);
	return rc == LUA_OK ? 0 : 1;
}
