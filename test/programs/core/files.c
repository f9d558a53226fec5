// Library-OS state across migrations: a file read partly on each node (the offset travels, unbuffered), a file written on
// each node through one FILE*, a directory listed partly on each node (the cursor travels), and a file created
// on edge and read back on cloud.
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include "kafu.h"

KAFU_EXPORT(on_edge) int on_edge(FILE *in, FILE *out, DIR *d);

static char names[16][64];
static int nnames;
static int duplicates;

// The next entry other than . and .., remembered in names[] (a name seen twice counts as a duplicate).
static int next_entry(DIR *d, char *name, size_t cap) {
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        snprintf(name, cap, "%s", e->d_name);
        for (int i = 0; i < nnames; i++) duplicates += strcmp(names[i], name) == 0;
        if (nnames < 16) snprintf(names[nnames++], sizeof names[0], "%s", name);
        return 1;
    }
    return 0;
}

int main(void) {
    FILE *in = fopen("/input.txt", "r");
    FILE *out = fopen("/out.txt", "w");
    DIR *d = opendir("/entries");
    if (!in || !out || !d) { perror("open"); return 1; }
    // Unbuffered: every read and write goes to the library OS at its current offset (a stdio buffer in linear
    // memory would hide whether the offsets travelled).
    setvbuf(in, NULL, _IONBF, 0);
    setvbuf(out, NULL, _IONBF, 0);
    char line[64], name[64];
    int seen = 0;
    // cloud: first line and first directory entry
    if (fgets(line, sizeof line, in)) fprintf(out, "cloud read: %s", line);
    if (next_entry(d, name, sizeof name)) { seen++; fprintf(out, "cloud saw entry\n"); }
    seen += on_edge(in, out, d);
    // cloud again: the rest
    while (fgets(line, sizeof line, in)) fprintf(out, "cloud read: %s", line);
    while (next_entry(d, name, sizeof name)) seen++;
    fclose(in);
    fclose(out);
    closedir(d);
    FILE *note = fopen("/entries/from-edge.txt", "r");
    if (!note || !fgets(line, sizeof line, note)) { printf("note missing\n"); return 2; }
    fclose(note);
    printf("entries seen: %d, duplicates: %d, note: %s", seen, duplicates, line);
    return 0;
}

KAFU_DEST(on_edge, "edge")
int on_edge(FILE *in, FILE *out, DIR *d) {
    char line[64], name[64];
    int seen = 0;
    for (int i = 0; i < 2 && fgets(line, sizeof line, in); i++) fprintf(out, "edge read: %s", line);
    for (int i = 0; i < 2 && next_entry(d, name, sizeof name); i++) { seen++; fprintf(out, "edge saw entry\n"); }
    FILE *note = fopen("/entries/from-edge.txt", "w");
    fprintf(note, "written on edge\n");
    fclose(note);
    return seen;
}
