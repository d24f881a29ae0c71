/*
 * busybox-static applets, natively and in airlock: same stdout, same status.
 * Inputs are the files of tests/compat/data (plus what mkroot.sh adds).
 *
 * `compat`: input through stdin only; runs on main today.
 * `compat_fs`: reads files from the /data drive; needs virtio-blk, ext2 and
 * the file syscalls of issue 3.
 *
 * No pipelines, no command substitution: a job cannot fork yet. Nothing
 * prints times, owners or directory sizes, which differ between the host's
 * filesystem and an ext2 image of the same tree.
 */
#include "compat.h"

/* Standard streams only ------------------------------------------------ */

COMPAT_STDIO(seq_range, BUSYBOX("seq", "3", "12"))
COMPAT_STDIO(seq_step_width_separator,
	     BUSYBOX("seq", "-w", "-s", ",", "1", "3", "20"))
COMPAT_STDIO(printf_formats, BUSYBOX("printf", "%5s|%-4d|%x|%o|%c|%e|%%\\n",
				     "ab", "42", "255", "8", "xyz", "1234.5"))
COMPAT_STDIO(printf_reuses_its_format,
	     BUSYBOX("printf", "%s=%d\\n", "a", "1", "b", "2", "c", "3"))
COMPAT_STDIO(echo_escapes, BUSYBOX("echo", "-e", "tab\\there\\nnew line\\\\"))
COMPAT_STDIO(expr_precedence,
	     BUSYBOX("expr", "7", "*", "6", "-", "20", "%", "6"))
COMPAT_STDIO(expr_zero_result_is_status_1, BUSYBOX("expr", "3", "-", "3"),
	     .status = 1)
COMPAT_STDIO(expr_match, BUSYBOX("expr", "match", "abc123", "[a-z]*"))
COMPAT_STDIO(test_numeric_true, BUSYBOX("test", "3", "-lt", "5"))
COMPAT_STDIO(test_string_false, BUSYBOX("test", "abc", "=", "abd"), .status = 1)
COMPAT_STDIO(cat_stdin_numbered, BUSYBOX("cat", "-n"),
	     .stdin_file = "data/words.txt")
COMPAT_STDIO(cat_stdin_show_all, BUSYBOX("cat", "-A"),
	     .stdin_file = "data/poem.txt")
COMPAT_STDIO(tac_stdin, BUSYBOX("tac"), .stdin_file = "data/words.txt")
COMPAT_STDIO(fold_at_spaces, BUSYBOX("fold", "-s", "-w", "12"),
	     .stdin_file = "data/poem.txt")
COMPAT_STDIO(base64_encode, BUSYBOX("base64"), .stdin_file = "data/poem.txt")
COMPAT_STDIO(base64_decode, BUSYBOX("base64", "-d"),
	     .stdin_file = "data/poem.b64")
COMPAT_STDIO(sha256sum_of_big_stdin, BUSYBOX("sha256sum"),
	     .stdin_file = "data/big.txt")
COMPAT_STDIO(md5sum_stdin, BUSYBOX("md5sum"), .stdin_file = "data/table.csv")
COMPAT_STDIO(wc_stdin, BUSYBOX("wc"), .stdin_file = "data/poem.txt")
COMPAT_STDIO(sort_fold_case, BUSYBOX("sort", "-f"),
	     .stdin_file = "data/words.txt")
COMPAT_STDIO(sort_numeric_key_reverse, BUSYBOX("sort", "-t", ",", "-k4,4nr"),
	     .stdin_file = "data/table.csv")
COMPAT_STDIO(sort_unique, BUSYBOX("sort", "-u"), .stdin_file = "data/words.txt")
COMPAT_STDIO(grep_ignore_case_numbered, BUSYBOX("grep", "-in", "the"),
	     .stdin_file = "data/poem.txt")
COMPAT_STDIO(grep_extended_count_inverted, BUSYBOX("grep", "-Evc", "^[a-z]+$"),
	     .stdin_file = "data/words.txt")
COMPAT_STDIO(grep_no_match_is_status_1, BUSYBOX("grep", "zebra_"),
	     .stdin_file = "data/words.txt", .status = 1)
COMPAT_STDIO(sed_substitute_delete,
	     BUSYBOX("sed", "-e", "s/\\([a-z]*\\)an/<\\1>/g", "-e", "3d"),
	     .stdin_file = "data/words.txt")
COMPAT_STDIO(sed_print_range_and_count, BUSYBOX("sed", "-n", "2,4p;$="),
	     .stdin_file = "data/poem.txt")
COMPAT_STDIO(awk_sum_and_mean,
	     BUSYBOX("awk", "-F,",
		     "NR > 1 { s += $4; n++ } END { printf \"%d %.3f\\n\", s, "
		     "s / n }"),
	     .stdin_file = "data/table.csv")
COMPAT_STDIO(awk_fields_and_functions,
	     BUSYBOX("awk", "{ print NR, NF, toupper($1), length($0), "
			    "substr($0, 3, 4) }"),
	     .stdin_file = "data/poem.txt")
COMPAT_STDIO(head_lines, BUSYBOX("head", "-n", "3"),
	     .stdin_file = "data/poem.txt")
COMPAT_STDIO(tail_bytes, BUSYBOX("tail", "-c", "40"),
	     .stdin_file = "data/poem.txt")
COMPAT_STDIO(cut_fields, BUSYBOX("cut", "-d", ",", "-f", "2,4"),
	     .stdin_file = "data/table.csv")
COMPAT_STDIO(od_hex_and_chars, BUSYBOX("od", "-A", "x", "-t", "x1", "-t", "c"),
	     .stdin_file = "data/table.csv")
COMPAT_STDIO(tr_squeeze_upper, BUSYBOX("tr", "-s", "a-z ", "A-Z_"),
	     .stdin_file = "data/poem.txt")
COMPAT_STDIO(uniq_count, BUSYBOX("uniq", "-c", "-i"),
	     .stdin_file = "data/words.txt")
COMPAT_STDIO(sh_while_loop_arithmetic,
	     BUSYBOX("sh", "-c",
		     "i=0; s=0; while [ $i -lt 10 ]; do s=$((s + i * i)); "
		     "i=$((i + 1)); done; echo \"$i $s $((s % 7)) "
		     "$((1 << 20)) $((-7 / 2))\""))
COMPAT_STDIO(sh_recursive_function,
	     BUSYBOX("sh", "-c",
		     "fib() { if [ $1 -lt 2 ]; then r=$1; return; fi; "
		     "fib $(($1 - 1)); local a=$r; fib $(($1 - 2)); "
		     "r=$((a + r)); }; for n in 1 5 10 15; do fib $n; "
		     "echo \"fib($n)=$r\"; done"))
COMPAT_STDIO(sh_case_and_positional,
	     BUSYBOX("sh", "-c",
		     "for w in \"$@\"; do case $w in [0-9]*) echo \"num $w\";; "
		     "*.txt) echo \"text ${w%.txt}\";; *) echo \"other "
		     "${#w}\";; esac; done; shift 2; echo \"$# left: $*\"",
		     "sh", "42", "notes.txt", "hello", "x y"))
COMPAT_STDIO(sh_exit_status_of_function,
	     BUSYBOX("sh", "-c",
		     "f() { return $1; }; f 3; echo \"f said $?\"; "
		     "exit 7"),
	     .status = 7)
COMPAT_STDIO(sh_reads_stdin_fields,
	     BUSYBOX("sh", "-c",
		     "while IFS=, read -r id name city score; do "
		     "echo \"$name/$id: ${city% *}\"; done"),
	     .stdin_file = "data/table.csv")

/* Files on the /data drive --------------------------------------------- */

COMPAT_DRIVE(cat_files, BUSYBOX("cat", "data/words.txt", "data/table.csv"))
COMPAT_DRIVE(cat_through_symlink, BUSYBOX("cat", "data/tree/poem-link"))
COMPAT_DRIVE(cat_missing_file_is_status_1,
	     BUSYBOX("cat", "data/poem.txt", "data/no-such-file"), .status = 1)
COMPAT_DRIVE(cat_big_file, BUSYBOX("cat", "data/big.txt"))
COMPAT_DRIVE(wc_files, BUSYBOX("wc", "data/poem.txt", "data/words.txt",
			       "data/big.txt", "data/sparse.bin"))
COMPAT_DRIVE(sort_file_by_key,
	     BUSYBOX("sort", "-t", ",", "-k3", "data/table.csv"))
COMPAT_DRIVE(sort_big_numeric_reverse,
	     BUSYBOX("sort", "-n", "-r", "data/big.txt"))
COMPAT_DRIVE(grep_count_in_files,
	     BUSYBOX("grep", "-c", "e", "data/poem.txt", "data/words.txt"))
COMPAT_DRIVE(grep_recursive_single_hit,
	     BUSYBOX("grep", "-rn", "needle", "data/tree"))
COMPAT_DRIVE(sed_file, BUSYBOX("sed", "-n", "/quick/{=;p}", "data/poem.txt"))
COMPAT_DRIVE(awk_file_filter,
	     BUSYBOX("awk", "-F,", "$4 > 80 { print $2, FILENAME }",
		     "data/table.csv"))
COMPAT_DRIVE(head_of_two_files,
	     BUSYBOX("head", "-n", "2", "data/poem.txt", "data/words.txt"))
COMPAT_DRIVE(tail_of_big_file, BUSYBOX("tail", "-n", "3", "data/big.txt"))
COMPAT_DRIVE(cut_file_chars, BUSYBOX("cut", "-c", "1-12", "data/poem.txt"))
COMPAT_DRIVE(od_across_sparse_hole,
	     BUSYBOX("od", "-A", "d", "-t", "x1", "data/sparse.bin"))
COMPAT_DRIVE(od_skip_into_big_file,
	     BUSYBOX("od", "-A", "d", "-c", "-j", "300000", "-N", "48",
		     "data/big.txt"))
COMPAT_DRIVE(base64_file, BUSYBOX("base64", "data/table.csv"))
COMPAT_DRIVE(sha256sum_files, BUSYBOX("sha256sum", "data/big.txt",
				      "data/sparse.bin", "data/poem.txt"))
COMPAT_DRIVE(md5sum_check_list, BUSYBOX("md5sum", "-c", "data/sums.md5"))
COMPAT_DRIVE(dd_skip_and_count,
	     BUSYBOX("dd", "if=data/big.txt", "bs=1000", "skip=100", "count=2"))
COMPAT_DRIVE(cmp_different_files,
	     BUSYBOX("cmp", "data/words.txt", "data/poem.txt"), .status = 1)
COMPAT_DRIVE(find_by_name, BUSYBOX("find", "data", "-name", "needle*"))
COMPAT_DRIVE(find_symlink, BUSYBOX("find", "data", "-type", "l"))
COMPAT_DRIVE(find_empty_directory,
	     BUSYBOX("find", "data/tree", "-type", "d", "-empty"))
COMPAT_DRIVE(find_large_file,
	     BUSYBOX("find", "data", "-type", "f", "-size", "+500k"))
COMPAT_DRIVE(ls_types, BUSYBOX("ls", "-1F", "data/tree", "data/tree/a"))
COMPAT_DRIVE(ls_recursive_all, BUSYBOX("ls", "-Ra", "data/tree"))
COMPAT_DRIVE(ls_missing_is_status_1,
	     BUSYBOX("ls", "data/tree/a", "data/tree/nope"), .status = 1)
COMPAT_DRIVE(stat_files,
	     BUSYBOX("stat", "-c", "%n %s %a %F %h %Y", "data/words.txt",
		     "data/big.txt", "data/sparse.bin", "data/tree/a/one.txt"))
COMPAT_DRIVE(stat_link_and_dirs,
	     BUSYBOX("stat", "-c", "%n %a %F", "data/tree/poem-link",
		     "data/tree", "data/tree/empty"))
COMPAT_DRIVE(stat_follows_link,
	     BUSYBOX("stat", "-L", "-c", "%n %s %F", "data/tree/poem-link"))
COMPAT_DRIVE(readlink_symlink, BUSYBOX("readlink", "data/tree/poem-link"))
COMPAT_DRIVE(test_existing_and_missing,
	     BUSYBOX("test", "-e", "data/words.txt", "-a", "!", "-e",
		     "data/no-such-file"))
COMPAT_DRIVE(sh_test_predicates,
	     BUSYBOX("sh", "-c",
		     "for p in data/words.txt data/tree data/tree/poem-link "
		     "data/tree/empty data/no-such-file; do printf '%s:' $p; "
		     "test -e $p && printf ' e'; test -f $p && printf ' f'; "
		     "test -d $p && printf ' d'; test -L $p && printf ' L'; "
		     "test -s $p && printf ' s'; test -r $p && printf ' r'; "
		     "echo; done"))
COMPAT_DRIVE(sh_glob_and_cd,
	     BUSYBOX("sh", "-c",
		     "echo data/tree/*/*; cd data/tree/a && echo * && cd b && "
		     "echo *.txt"))
COMPAT_DRIVE(sh_read_file_fields,
	     BUSYBOX("sh", "-c",
		     "while IFS=, read -r id name rest; do echo \"$id:$name\"; "
		     "done < data/table.csv"))
COMPAT_DRIVE(sh_script_file, BUSYBOX("sh", "data/scripts/loops.sh"))
