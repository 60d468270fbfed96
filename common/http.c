/* Health and metrics endpoint: GET /metrics, /healthz, /readyz on libmicrohttpd's thread. */
#include "http.h"

#include <microhttpd.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "metrics.h"

#define HTTP_CONNECTION_LIMIT 64
#define HTTP_CONNECTION_TIMEOUT_S 30

static struct MHD_Daemon *http_daemon;
static http_ready_fn http_ready;
static void *http_ready_arg;

static void http_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];
    (void)cls;
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    if (n > 0 && msg[n - 1] == '\n')
        msg[n - 1] = '\0';
    log_warn("http: %s", msg);
}

/* Queues a response; `body` is static text or, with `owned`, a malloc'ed buffer MHD frees. */
static enum MHD_Result http_reply(struct MHD_Connection *conn, unsigned status, const char *type,
                                  char *body, int owned)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(
        strlen(body), body, owned ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!r) {
        log_error("http: MHD_create_response_from_buffer failed");
        return MHD_NO;
    }
    enum MHD_Result ret = MHD_YES;
    if (MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type) != MHD_YES) {
        log_error("http: MHD_add_response_header failed");
        ret = MHD_NO;
    }
    if (ret == MHD_YES && status == MHD_HTTP_METHOD_NOT_ALLOWED &&
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD") != MHD_YES) {
        log_error("http: MHD_add_response_header failed");
        ret = MHD_NO;
    }
    if (ret == MHD_YES)
        ret = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result http_metrics(struct MHD_Connection *conn)
{
    char *text = metrics_render();
    if (!text)
        return http_reply(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain",
                          "metrics unavailable\n", 0);
    return http_reply(conn, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", text, 1);
}

static enum MHD_Result http_readyz(struct MHD_Connection *conn)
{
    /* Not ready while a dependency is unreachable, whatever the service's own state says. */
    int ready = (http_ready ? http_ready(http_ready_arg) : 1) && metrics_dependencies_up();
    if (ready)
        return http_reply(conn, MHD_HTTP_OK, "text/plain", "ready\n", 0);
    return http_reply(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain", "not ready\n", 0);
}

static enum MHD_Result http_handle(void *cls, struct MHD_Connection *conn, const char *url,
                                   const char *method, const char *version, const char *upload_data,
                                   size_t *upload_data_size, void **req_cls)
{
    (void)cls, (void)version, (void)upload_data, (void)upload_data_size;
    /* First call only announces the headers: answer on the second, as MHD recommends. */
    if (*req_cls == NULL) {
        *req_cls = (void *)1;
        return MHD_YES;
    }
    int known = strcmp(url, "/metrics") == 0 || strcmp(url, "/healthz") == 0 ||
                strcmp(url, "/readyz") == 0;
    if (!known)
        return http_reply(conn, MHD_HTTP_NOT_FOUND, "text/plain", "not found\n", 0);
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return http_reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", "method not allowed\n",
                          0);
    if (strcmp(url, "/metrics") == 0)
        return http_metrics(conn);
    if (strcmp(url, "/healthz") == 0)
        return http_reply(conn, MHD_HTTP_OK, "text/plain", "ok", 0);
    return http_readyz(conn);
}

int http_start(int port, http_ready_fn ready, void *arg)
{
    if (http_daemon) {
        log_error("http: server already started");
        return -1;
    }
    if (port < 0 || port > 65535) {
        log_error("http: invalid port %d", port);
        return -1;
    }
    http_ready = ready;
    http_ready_arg = arg;
    http_daemon = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG, (uint16_t)port, NULL,
        NULL, http_handle, NULL, MHD_OPTION_EXTERNAL_LOGGER, http_mhd_log, NULL,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTP_CONNECTION_LIMIT, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)HTTP_CONNECTION_TIMEOUT_S, MHD_OPTION_END);
    if (!http_daemon) {
        log_error("http: MHD_start_daemon failed on port %d", port);
        return -1;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(http_daemon, MHD_DAEMON_INFO_BIND_PORT);
    if (!info || info->port == 0) {
        log_error("http: MHD_get_daemon_info(MHD_DAEMON_INFO_BIND_PORT) failed");
        http_stop();
        return -1;
    }
    log_info("http: serving /metrics, /healthz, /readyz on port %u", (unsigned)info->port);
    return info->port;
}

void http_stop(void)
{
    if (!http_daemon)
        return;
    MHD_stop_daemon(http_daemon);
    http_daemon = NULL;
    http_ready = NULL;
    http_ready_arg = NULL;
}
