/* Never ends on its own: for wall-clock limits. */
int main(void)
{
	for (;;)
		__asm__ volatile("" ::: "memory");
}
