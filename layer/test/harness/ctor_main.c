/* Harness 2's executable: all the work happens in the snippet library's constructor. */
int main(void) { return 0; }
