#include "writesender.h"

#include "clientconfig.h"

#include <QMutex>
#include <QNetworkRequest>
#include <QRunnable>
#include <QThreadPool>

#include <curl/curl.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <mutex>

#include <sys/socket.h>
#include <unistd.h>

namespace fleet {

struct WriteSenderJob
{
    QMutex mutex;
    QObject *receiver = nullptr; // null once cancelled: nothing is delivered
    std::atomic_bool cancelled { false };
};

namespace {

// Writes are few (an engineer's actions, status updates) but one may stall for its whole deadline: a small pool of
// their own, so that a stalled write never holds up the others or the decoding pool.
QThreadPool *writePool()
{
    static QThreadPool *pool = [] {
        auto *p = new QThreadPool; // lives as long as the process: a write in flight at exit is abandoned
        p->setMaxThreadCount(4);
        p->setExpiryTimeout(30000);
        return p;
    }();
    return pool;
}

void initCurlOnce()
{
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Transfer
{
    WireAnswer answer;
    qint64 cap = 0;
    std::shared_ptr<WriteSenderJob> job;
};

// Header lines, one at a time. A new status line (after a 100 Continue) starts the answer's head again.
size_t onHeader(char *data, size_t size, size_t count, void *user)
{
    auto *t = static_cast<Transfer *>(user);
    const size_t n = size * count;
    const QByteArray line = QByteArray(data, qsizetype(n)).trimmed();
    if (line.startsWith("HTTP/")) {
        const qsizetype first = line.indexOf(' ');
        const qsizetype second = first < 0 ? -1 : line.indexOf(' ', first + 1);
        t->answer.status = first < 0 ? 0 : line.mid(first + 1, second < 0 ? -1 : second - first - 1).toInt();
        t->answer.reasonPhrase = second < 0 ? QString() : QString::fromLatin1(line.mid(second + 1).left(200));
        t->answer.retryAfter.clear();
        t->answer.location.clear();
        t->answer.contentLength = -1;
        return n;
    }
    const qsizetype colon = line.indexOf(':');
    if (colon <= 0)
        return n;
    const QByteArray name = line.left(colon).trimmed().toLower();
    const QByteArray value = line.mid(colon + 1).trimmed();
    if (name == "retry-after")
        t->answer.retryAfter = value.left(200);
    else if (name == "location")
        t->answer.location = value.left(8192);
    else if (name == "content-length") {
        bool ok = false;
        const qint64 length = value.toLongLong(&ok);
        t->answer.contentLength = ok && length >= 0 ? length : -1;
        if (ok && length > t->cap) {
            t->answer.tooLarge = true;
            return 0; // aborts the transfer
        }
    }
    return n;
}

size_t onBody(char *data, size_t size, size_t count, void *user)
{
    auto *t = static_cast<Transfer *>(user);
    const size_t n = size * count;
    if (t->answer.body.size() + qint64(n) > t->cap) {
        t->answer.tooLarge = true;
        return 0;
    }
    if (t->answer.body.isEmpty() && t->answer.contentLength > 0)
        t->answer.body.reserve(qsizetype(t->answer.contentLength) + 64);
    t->answer.body.append(data, qsizetype(n));
    return n;
}

// The write's connection is closed by us. Before any answer came, the server may not have the whole request yet:
// a plain close() would leave the kernel delivering the rest on its own (retransmitting it through loss, waiting
// for a shut window to open) long after this write was given up, looked up, found missing and sent again. So the
// connection is reset instead (SO_LINGER 0): what the kernel still holds is dropped, and the server drops the part
// it has. Once an answer came the server has acted; the connection is closed plainly.
int onCloseSocket(void *user, curl_socket_t socket)
{
    const auto *t = static_cast<const Transfer *>(user);
    if (t->answer.status == 0) {
        const linger reset { 1, 0 };
        ::setsockopt(socket, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
    }
    return ::close(socket);
}

int onProgress(void *user, curl_off_t, curl_off_t, curl_off_t, curl_off_t)
{
    return static_cast<Transfer *>(user)->job->cancelled.load() ? 1 : 0;
}

// The outcome of a failed transfer in the words Qt's stack uses, so that ApiError classifies both the same way
// (refused and host-not-found never reached the server; everything else may have).
void classify(CURLcode code, long osErrno, WireAnswer &a)
{
    using E = QNetworkReply::NetworkError;
    a.errorDetail = QString::fromUtf8(curl_easy_strerror(code));
    switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
        a.networkError = E::HostNotFoundError;
        break;
    case CURLE_COULDNT_CONNECT:
        a.networkError = osErrno == ECONNREFUSED ? E::ConnectionRefusedError : E::UnknownNetworkError;
        if (osErrno == ENETUNREACH || osErrno == EHOSTUNREACH)
            a.errorDetail = QStringLiteral("host unreachable");
        break;
    case CURLE_OPERATION_TIMEDOUT:
        a.deadline = true;
        a.networkError = E::TimeoutError;
        break;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
        a.networkError = E::SslHandshakeFailedError;
        break;
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
        a.networkError = E::ProtocolUnknownError;
        break;
    case CURLE_WEIRD_SERVER_REPLY:
        a.networkError = E::ProtocolFailure;
        break;
    case CURLE_ABORTED_BY_CALLBACK:
        a.networkError = E::OperationCanceledError;
        break;
    case CURLE_GOT_NOTHING:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_PARTIAL_FILE:
        a.networkError = E::RemoteHostClosedError;
        break;
    default:
        a.networkError = E::UnknownNetworkError;
    }
}

class WriteJob : public QRunnable
{
public:
    WriteJob(std::shared_ptr<WriteSenderJob> job, QByteArray url, QList<QByteArray> headers, QByteArray verb,
        QByteArray body, int timeoutMs, qint64 cap, QByteArray caFile, bool insecure,
        std::function<void(WireAnswer)> done)
        : m_job(std::move(job))
        , m_url(std::move(url))
        , m_headers(std::move(headers))
        , m_verb(std::move(verb))
        , m_body(std::move(body))
        , m_timeoutMs(timeoutMs)
        , m_cap(cap)
        , m_caFile(std::move(caFile))
        , m_insecure(insecure)
        , m_done(std::move(done))
    {
    }

    void run() override
    {
        Transfer t;
        t.cap = m_cap;
        t.job = m_job;
        if (!m_job->cancelled.load())
            perform(t);
        QMutexLocker lock(&m_job->mutex);
        if (!m_job->receiver)
            return;
        QMetaObject::invokeMethod(
            m_job->receiver,
            [job = m_job, done = std::move(m_done), answer = std::move(t.answer)]() mutable {
                if (!job->cancelled.load())
                    done(std::move(answer));
            },
            Qt::QueuedConnection);
    }

private:
    void perform(Transfer &t)
    {
        CURL *curl = curl_easy_init();
        if (!curl) {
            t.answer.networkError = QNetworkReply::UnknownNetworkError;
            t.answer.errorDetail = QStringLiteral("libcurl could not start a transfer");
            return;
        }
        curl_slist *headers = nullptr;
        for (const QByteArray &h : std::as_const(m_headers))
            headers = curl_slist_append(headers, h.constData());
        headers = curl_slist_append(headers, "Expect:"); // no 100-continue round trip
        curl_easy_setopt(curl, CURLOPT_URL, m_url.constData());
        curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, m_verb.constData());
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(m_body.size()));
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, m_body.constData());
        // Exactly once: a new connection for this request alone, so there is no reused connection to retry on.
        curl_easy_setopt(curl, CURLOPT_FRESH_CONNECT, 1L);
        curl_easy_setopt(curl, CURLOPT_FORBID_REUSE, 1L);
        curl_easy_setopt(curl, CURLOPT_HTTP_VERSION, long(CURL_HTTP_VERSION_1_1));
        curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(curl, CURLOPT_PROXY, ""); // not from the environment: the same as the reads
        curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, long(m_timeoutMs));
        curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, long(std::min(m_timeoutMs, 10000)));
        curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &onHeader);
        curl_easy_setopt(curl, CURLOPT_HEADERDATA, &t);
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &onBody);
        curl_easy_setopt(curl, CURLOPT_WRITEDATA, &t);
        curl_easy_setopt(curl, CURLOPT_CLOSESOCKETFUNCTION, &onCloseSocket);
        curl_easy_setopt(curl, CURLOPT_CLOSESOCKETDATA, &t);
        curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, &onProgress);
        curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &t);
        curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
        if (m_insecure) {
            curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
            curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
        } else if (!m_caFile.isEmpty()) {
            // The private CA in addition to the system's, as with the reads.
            curl_easy_setopt(curl, CURLOPT_CAINFO, m_caFile.constData());
            curl_easy_setopt(curl, CURLOPT_CAPATH, "/etc/ssl/certs");
        }
        const CURLcode code = curl_easy_perform(curl);
        if (code != CURLE_OK && !(t.answer.tooLarge && code == CURLE_WRITE_ERROR)) {
            long osErrno = 0;
            curl_easy_getinfo(curl, CURLINFO_OS_ERRNO, &osErrno);
            if (!t.answer.tooLarge)
                classify(code, osErrno, t.answer);
            if (!t.answer.tooLarge && (t.answer.networkError != QNetworkReply::NoError))
                t.answer.status = 0; // an answer cut short is no answer
        }
        curl_slist_free_all(headers);
        curl_easy_cleanup(curl);
    }

    std::shared_ptr<WriteSenderJob> m_job;
    QByteArray m_url;
    QList<QByteArray> m_headers;
    QByteArray m_verb;
    QByteArray m_body;
    int m_timeoutMs;
    qint64 m_cap;
    QByteArray m_caFile;
    bool m_insecure;
    std::function<void(WireAnswer)> m_done;
};

} // namespace

WriteSender::Handle WriteSender::send(const ClientConfig &config, const QNetworkRequest &request,
    const QByteArray &verb, const QByteArray &body, int timeoutMs, qint64 maxBytes, QObject *receiver,
    std::function<void(WireAnswer)> done)
{
    initCurlOnce();
    auto job = std::make_shared<WriteSenderJob>();
    job->receiver = receiver;
    QList<QByteArray> headers;
    for (const QByteArray &name : request.rawHeaderList())
        headers << name + ": " + request.rawHeader(name);
    const QByteArray contentType = request.header(QNetworkRequest::ContentTypeHeader).toByteArray();
    if (!contentType.isEmpty())
        headers << "Content-Type: " + contentType;
    auto *runnable
        = new WriteJob(job, request.url().toEncoded(), std::move(headers), verb, body, std::max(timeoutMs, 1),
            std::max<qint64>(maxBytes, 0), config.caFile.toLocal8Bit(), config.insecure, std::move(done));
    runnable->setAutoDelete(true);
    writePool()->start(runnable);
    return job;
}

void WriteSender::cancel(const Handle &handle)
{
    if (!handle)
        return;
    QMutexLocker lock(&handle->mutex);
    handle->receiver = nullptr;
    handle->cancelled.store(true);
}

} // namespace fleet
