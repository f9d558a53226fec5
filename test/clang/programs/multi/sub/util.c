#include <math.h>
#include "config.h"
double scaled(int x) { return sqrt((double)(x * CONFIG_N)); }
