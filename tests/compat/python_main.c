/*
 * CPython 3.11 as one static executable, linked against Debian's
 * libpython3.11.a, so that it can run as an airlock job. It takes the
 * ordinary `python3` command line; the standard library is found through
 * PYTHONHOME (on a drive inside airlock).
 */
#include <Python.h>

int main(int argc, char **argv)
{
	return Py_BytesMain(argc, argv);
}
