/* Start-up and close shared by the services that use PostgreSQL (claimer, committer). */
#include "service_open.h"

#include <stdio.h>
#include <string.h>

#include "kafka.h"
#include "log.h"

static int service_open_kafka(const service_base *b, const service_open_spec *o, service_handles *h)
{
    char err[512];
    rd_kafka_conf_t *conf = kafka_conf_new(b->kafka_brokers, h->app, err, sizeof err);
    if (!conf) {
        log_error("%s", err);
        return -1;
    }
    if (o->dr_cb)
        rd_kafka_conf_set_dr_msg_cb(conf, o->dr_cb);
    rd_kafka_conf_set_opaque(conf, o->dr_opaque);
    if (!(h->producer = kafka_producer_new(conf, err, sizeof err))) {
        log_error("%s", err);
        return -1;
    }
    return kafka_check_reachable(h->producer, b->kafka_brokers, 10000);
}

db_settings service_db_settings(const service_base *b, const char *url, const char *app)
{
    return (db_settings){url,
                         app,
                         (int)b->stmt_timeout_ms,
                         (int)b->lock_timeout_ms,
                         (int)b->idle_tx_timeout_ms,
                         (int)b->db_connect_timeout_s,
                         (int)b->db_deadline_margin_ms,
                         (int)b->db_keepalive_s,
                         (int)b->db_tcp_user_timeout_ms};
}

int service_open(const service_base *b, const service_open_spec *o, service_handles *h)
{
    char err[512];
    memset(h, 0, sizeof *h);
    snprintf(h->app, sizeof h->app, "wf4-%s/%s", o->name, b->instance);
    db_settings ds = service_db_settings(b, b->database_url, h->app);
    if (!(h->d = db_connect(&ds, err, sizeof err))) {
        log_error("WF4_DATABASE_URL: cannot connect to PostgreSQL: %s", err);
        return -1;
    }
    if (!(h->w = wire_new(b->schema_dir, b->registry_url, err, sizeof err))) {
        log_error("WF4_SCHEMA_DIR/WF4_SCHEMA_REGISTRY_URL: %s", err);
        return -1;
    }
    if (wire_register(h->w, o->schema, o->topic, err, sizeof err) != 0) {
        log_error("WF4_SCHEMA_REGISTRY_URL: cannot register the schema of %s: %s", o->topic, err);
        return -1;
    }
    return service_open_kafka(b, o, h);
}

void service_close(service_handles *h)
{
    if (h->producer) {
        int left = kafka_drain(h->producer, 10000);
        if (left > 0)
            log_warn("%d messages not acknowledged at close", left);
        rd_kafka_destroy(h->producer);
    }
    wire_free(h->w);
    db_close(h->d);
    memset(h, 0, sizeof *h);
}
