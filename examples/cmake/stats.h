#pragma once
double mean(const double *v, int n);
