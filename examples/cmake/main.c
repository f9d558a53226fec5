// Reads samples on the edge (where the sensor is), summarizes them in the cloud: a library built by CMake and a
// KAFU_DEST function, one ordinary program.
#include <stdio.h>
#include "kafu.h"
#include "stats.h"

#define N 8
static double samples[N];

void read_sensor(void);
KAFU_DEST(read_sensor, "edge")
KAFU_EXPORT(read_sensor)
void read_sensor(void) {
  for (int i = 0; i < N; i++) samples[i] = 20.0 + (i % 3) * 0.5;
  printf("edge: read %d samples\n", N);
}

int main(void) {
  printf("cloud: asking the edge for samples\n");
  read_sensor();
  printf("cloud: mean %.2f\n", mean(samples, N));
  return 0;
}
