/*
 * kafka-mock-cluster: a local Kafka for development and tests, built on librdkafka's
 * in-process mock cluster (rdkafka_mock.h). No JVM, no containers; starts in milliseconds.
 *
 * Usage: kafka-mock-cluster [--brokers N] [--topic name:partitions[:replication]]...
 *
 * Prints the bootstrap list ("127.0.0.1:port,...") as the first line of stdout, then reads
 * one command per line on stdin and answers each with exactly one line, "ok" or
 * "error <reason>":
 *   ping
 *   down <brokerId> | up <brokerId>
 *   errors <apiKey> <errCode> [<errCode>...]        next requests of apiKey fail, cluster-wide
 *   broker-errors <brokerId> <apiKey> <count> <errCode> <rttMs>
 *   clear <apiKey>                                   drop pending cluster-wide errors
 *   rtt <brokerId> <ms>
 *   leader <topic> <partition> <brokerId>
 *   topic <name> <partitions> <replication>
 * It exits, destroying the cluster, when stdin closes or on SIGTERM/SIGINT. Tying the lifetime
 * to stdin means a test process that dies (even with SIGKILL) never leaves a cluster behind.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#define MAX_LINE 4096
#define MAX_ARGS 64

static rd_kafka_mock_cluster_t *mcluster;

/* Parses a whole decimal string into *out; rejects empty, trailing junk and out-of-range. */
static int parse_int(const char *s, long min, long max, long *out) {
    char *end;
    long v;
    if (!s || !*s) return 0;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || *end || v < min || v > max) return 0;
    *out = v;
    return 1;
}

static void reply(const char *err) {
    if (err)
        printf("error %s\n", err);
    else
        printf("ok\n");
    /* stdout is a pipe (fully buffered): the driving process waits for this line. */
    fflush(stdout);
}

static void reply_err(rd_kafka_resp_err_t err) {
    reply(err ? rd_kafka_err2str(err) : NULL);
}

/* Executes one tokenized command and writes its one-line answer. */
static void run_command(int argc, char **argv) {
    const char *cmd = argv[0];
    long a, b, c, d, e;

    if (!strcmp(cmd, "ping")) {
        reply(NULL);
    } else if (!strcmp(cmd, "down") || !strcmp(cmd, "up")) {
        if (argc != 2 || !parse_int(argv[1], -1, 1 << 30, &a))
            return reply("usage: down|up <brokerId>");
        /* Neither moves partition leadership: clients must ride out the outage. */
        reply_err(cmd[0] == 'd' ? rd_kafka_mock_broker_set_down(mcluster, (int32_t)a)
                                : rd_kafka_mock_broker_set_up(mcluster, (int32_t)a));
    } else if (!strcmp(cmd, "errors")) {
        rd_kafka_resp_err_t errs[MAX_ARGS];
        int i;
        if (argc < 3 || !parse_int(argv[1], 0, 32767, &a))
            return reply("usage: errors <apiKey> <errCode> [<errCode>...]");
        for (i = 2; i < argc; i++) {
            if (!parse_int(argv[i], -32768, 32767, &b)) return reply("bad error code");
            errs[i - 2] = (rd_kafka_resp_err_t)b;
        }
        rd_kafka_mock_push_request_errors_array(mcluster, (int16_t)a, (size_t)(argc - 2), errs);
        reply(NULL);
    } else if (!strcmp(cmd, "broker-errors")) {
        rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
        if (argc != 6 || !parse_int(argv[1], 0, 1 << 30, &a) ||
            !parse_int(argv[2], 0, 32767, &b) || !parse_int(argv[3], 1, 100000, &c) ||
            !parse_int(argv[4], -32768, 32767, &d) || !parse_int(argv[5], 0, 3600000, &e))
            return reply("usage: broker-errors <brokerId> <apiKey> <count> <errCode> <rttMs>");
        /* The API is variadic in (err, rtt) tuples; pushing one tuple per call keeps the count
         * a runtime value. Tuples are consumed in push order. */
        while (c-- > 0 && !err)
            err = rd_kafka_mock_broker_push_request_error_rtts(mcluster, (int32_t)a, (int16_t)b, 1,
                                                               (rd_kafka_resp_err_t)d, (int)e);
        reply_err(err);
    } else if (!strcmp(cmd, "clear")) {
        if (argc != 2 || !parse_int(argv[1], 0, 32767, &a)) return reply("usage: clear <apiKey>");
        rd_kafka_mock_clear_request_errors(mcluster, (int16_t)a);
        reply(NULL);
    } else if (!strcmp(cmd, "rtt")) {
        if (argc != 3 || !parse_int(argv[1], -1, 1 << 30, &a) ||
            !parse_int(argv[2], 0, 3600000, &b))
            return reply("usage: rtt <brokerId> <ms>");
        reply_err(rd_kafka_mock_broker_set_rtt(mcluster, (int32_t)a, (int)b));
    } else if (!strcmp(cmd, "leader")) {
        if (argc != 4 || !parse_int(argv[2], 0, 1 << 20, &a) ||
            !parse_int(argv[3], -1, 1 << 30, &b))
            return reply("usage: leader <topic> <partition> <brokerId>");
        reply_err(rd_kafka_mock_partition_set_leader(mcluster, argv[1], (int32_t)a, (int32_t)b));
    } else if (!strcmp(cmd, "topic")) {
        if (argc != 4 || !parse_int(argv[2], 1, 1 << 20, &a) || !parse_int(argv[3], 1, 1024, &b))
            return reply("usage: topic <name> <partitions> <replication>");
        reply_err(rd_kafka_mock_topic_create(mcluster, argv[1], (int)a, (int)b));
    } else {
        reply("unknown command");
    }
}

static void handle_line(char *line) {
    char *argv[MAX_ARGS + 2], *save = NULL, *tok;
    int argc = 0;
    for (tok = strtok_r(line, " \t\r", &save); tok; tok = strtok_r(NULL, " \t\r", &save)) {
        if (argc == MAX_ARGS + 2) return reply("too many arguments");
        argv[argc++] = tok;
    }
    if (argc == 0) return; /* blank lines get no answer: one answer per command */
    run_command(argc, argv);
}

static void usage(const char *prog) {
    fprintf(stderr, "usage: %s [--brokers N] [--topic name:partitions[:replication]]...\n", prog);
    exit(2);
}

int main(int argc, char **argv) {
    char errstr[512], buf[MAX_LINE + 1];
    size_t len = 0;
    long brokers = 3;
    int i, sfd, discarding = 0, running = 1;
    sigset_t sigs;
    rd_kafka_t *rk;
    rd_kafka_conf_t *conf;

    /* Block SIGINT/SIGTERM before librdkafka starts its threads (they inherit the mask), so
     * the signals are only ever consumed through the signalfd polled below, next to stdin. */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    sigprocmask(SIG_BLOCK, &sigs, NULL);
    sfd = signalfd(-1, &sigs, SFD_CLOEXEC);
    /* A vanished reader must show up as a write error, not kill us before cleanup. */
    signal(SIGPIPE, SIG_IGN);

    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--brokers") && i + 1 < argc) {
            if (!parse_int(argv[++i], 1, 64, &brokers)) usage(argv[0]);
        } else if (!strcmp(argv[i], "--topic") && i + 1 < argc) {
            i++; /* validated below, once the cluster exists */
        } else {
            usage(argv[0]);
        }
    }

    /* The mock cluster hangs off an rd_kafka_t used only for bookkeeping; a producer is the
     * cheapest kind (no group machinery). */
    conf = rd_kafka_conf_new();
    /* Keep warnings, drop the notice that this bookkeeping client has no bootstrap.servers. */
    rd_kafka_conf_set(conf, "log_level", "4", errstr, sizeof(errstr));
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (!rk) {
        fprintf(stderr, "rd_kafka_new: %s\n", errstr);
        return 1;
    }
    mcluster = rd_kafka_mock_cluster_new(rk, (int)brokers);
    if (!mcluster) {
        fprintf(stderr, "rd_kafka_mock_cluster_new failed\n");
        return 1;
    }

    for (i = 1; i < argc; i++) {
        char spec[512], *name, *parts, *repl, *save = NULL;
        long p, r = brokers < 3 ? brokers : 3;
        rd_kafka_resp_err_t err;
        if (strcmp(argv[i], "--topic")) {
            i++; /* skip the value of --brokers */
            continue;
        }
        /* Tokenize a copy: strtok_r on argv itself would also rewrite what `ps` shows. */
        snprintf(spec, sizeof(spec), "%s", argv[++i]);
        name = strtok_r(spec, ":", &save);
        parts = strtok_r(NULL, ":", &save);
        repl = strtok_r(NULL, ":", &save);
        if (!name || !parse_int(parts, 1, 1 << 20, &p) || (repl && !parse_int(repl, 1, 1024, &r))) {
            fprintf(stderr, "bad --topic value (want name:partitions[:replication])\n");
            return 2;
        }
        err = rd_kafka_mock_topic_create(mcluster, name, (int)p, (int)r);
        if (err) {
            fprintf(stderr, "topic %s: %s\n", name, rd_kafka_err2str(err));
            return 1;
        }
    }

    printf("%s\n", rd_kafka_mock_cluster_bootstraps(mcluster));
    fflush(stdout);

    /* Block in poll() until a command arrives, stdin closes or a signal comes: no busy loop. */
    while (running) {
        struct pollfd fds[2] = {{STDIN_FILENO, POLLIN, 0}, {sfd, POLLIN, 0}};
        ssize_t n;
        char *nl;
        if (poll(fds, sfd >= 0 ? 2 : 1, -1) < 0) {
            if (errno == EINTR) continue;
            break;
        }
        if (sfd >= 0 && (fds[1].revents & POLLIN)) break;
        if (!fds[0].revents) continue;

        n = read(STDIN_FILENO, buf + len, MAX_LINE - len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) { /* EOF (or error): run a final unterminated command, then stop */
            buf[len] = '\0';
            if (len && !discarding) handle_line(buf);
            break;
        }
        len += (size_t)n;

        /* Run every complete line in the buffer; keep the partial tail for the next read. */
        while ((nl = memchr(buf, '\n', len))) {
            size_t used = (size_t)(nl - buf) + 1;
            *nl = '\0';
            if (discarding)
                discarding = 0; /* end of an over-long line, already answered */
            else
                handle_line(buf);
            memmove(buf, buf + used, len - used);
            len -= used;
        }
        if (len == MAX_LINE) { /* no newline in a full buffer: reject, skip to the next '\n' */
            if (!discarding) reply("line too long");
            discarding = 1;
            len = 0;
        }
        if (ferror(stdout)) running = 0; /* nobody reads our answers any more */
    }

    rd_kafka_mock_cluster_destroy(mcluster);
    rd_kafka_destroy(rk);
    return 0;
}
