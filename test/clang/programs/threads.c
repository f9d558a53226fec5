#include <stdio.h>
#include <pthread.h>
static void *w(void *a) { printf("thread\n"); return a; }
int main(void) { pthread_t t; int r = pthread_create(&t, 0, w, 0); printf("create=%d\n", r); if (!r) pthread_join(t, 0); return 0; }
