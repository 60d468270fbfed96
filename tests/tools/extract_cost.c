/* Cost of extract_page per page: CPU time over N runs of each file given (bench/README.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "extract.h"

static char *cost_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n;
    if (!f || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
        goto out;
    buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    *len = (size_t)n;
out:
    if (f)
        fclose(f);
    return buf;
}

static double cost_cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void cost_show(const meta_page *m)
{
    const char *social[] = {m->facebook_url, m->twitter_url, m->linkedin_url, m->instagram_url,
                            m->youtube_url};
    for (size_t i = 0; i < m->phone_numbers.n; i++)
        printf("    phone %s\n", m->phone_numbers.v[i]);
    for (size_t i = 0; i < sizeof social / sizeof social[0]; i++)
        if (social[i])
            printf("    social %s\n", social[i]);
}

/* Runs extract_page runs times on one file; prints its size, CPU ms a run, phones found
 * (and, when show, the phones and social links). */
static int cost_file(const char *path, int runs, int show)
{
    size_t len = 0;
    char *body = cost_read(path, &len), err[128];
    if (!body) {
        fprintf(stderr, "extract_cost: cannot read %s\n", path);
        return -1;
    }
    double t0 = cost_cpu_ms();
    size_t phones = 0;
    for (int i = 0; i < runs; i++) {
        meta_page m;
        if (extract_page(body, len, "text/html", "https://www.example.com/", &m, err, sizeof err) ==
            EXTRACT_ERROR) {
            fprintf(stderr, "extract_cost: %s: %s\n", path, err);
            free(body);
            return -1;
        }
        phones = m.phone_numbers.n;
        if (show && i == 0)
            cost_show(&m);
        meta_page_free(&m);
    }
    const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    printf("%-40s %8zu bytes %9.3f ms/page %3zu phones\n", name, len, (cost_cpu_ms() - t0) / runs,
           phones);
    free(body);
    return 0;
}

int main(int argc, char **argv)
{
    int runs = 1, first = 1, rc = 0, show = 0;
    if (argc > first && strcmp(argv[first], "-v") == 0) {
        show = 1;
        first++;
    }
    if (argc > first + 1 && strcmp(argv[first], "-n") == 0) {
        runs = atoi(argv[first + 1]);
        first += 2;
    }
    if (runs < 1 || first >= argc) {
        fprintf(stderr, "usage: extract_cost [-v] [-n RUNS] PAGE...\n");
        return 2;
    }
    for (int i = first; i < argc; i++)
        rc |= cost_file(argv[i], runs, show);
    return rc ? 1 : 0;
}
