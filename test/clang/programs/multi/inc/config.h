#define CONFIG_N 4
