# Shell language without pipelines or external commands: builtins only.
# fact N: sets $result, since $(...) would need a fork.
fact() {
	local n=$1
	result=1
	while [ "$n" -gt 1 ]; do result=$((result * n)); n=$((n - 1)); done
}
for i in 1 5 10 20; do fact "$i"; printf '%d! = %s\n' "$i" "$result"; done
n=0
while read -r line; do
	n=$((n + 1))
	case $line in
	The*) echo "$n starts with The: ${line%% *}" ;;
	*[0-9]*) echo "$n has digits: ${#line} chars" ;;
	esac
done < "${1:-data/poem.txt}"
echo "lines read: $n"
set -- a b c
echo "args: $# $* ${2}"
x=abcdef; echo "${x#ab} ${x%ef} ${x:-unset} $((0x10 + 010 + 3 ** 2))"
