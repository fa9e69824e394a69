#include "hostileserver.h"

#include <QTcpSocket>

QByteArray HostileServer::Request::header(const QByteArray &name) const
{
    for (const auto &[k, v] : headers) {
        if (k.compare(name, Qt::CaseInsensitive) == 0)
            return v;
    }
    return {};
}

HostileServer::HostileServer(Handler handler, QObject *parent)
    : QObject(parent)
    , m_handler(std::move(handler))
{
    m_server.listen(QHostAddress::LocalHost, 0);
    connect(&m_server, &QTcpServer::newConnection, this, [this] {
        while (QTcpSocket *socket = m_server.nextPendingConnection()) {
            socket->setParent(this);
            auto *buffer = new QByteArray;
            connect(socket, &QObject::destroyed, socket, [buffer] { delete buffer; });
            connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
            connect(socket, &QTcpSocket::readyRead, this, [this, socket, buffer] {
                *buffer += socket->readAll();
                // One request at a time: the head, then Content-Length bytes of body (a write's body must not be
                // taken for the next request's head).
                for (;;) {
                    const qsizetype end = buffer->indexOf("\r\n\r\n");
                    if (end < 0)
                        return;
                    const QList<QByteArray> lines = buffer->left(end).split('\n');
                    Request r;
                    const QList<QByteArray> first = lines.value(0).trimmed().split(' ');
                    r.method = first.value(0);
                    r.path = first.value(1);
                    for (qsizetype i = 1; i < lines.size(); ++i) {
                        const qsizetype colon = lines[i].indexOf(':');
                        if (colon > 0)
                            r.headers.append({ lines[i].left(colon).trimmed(), lines[i].mid(colon + 1).trimmed() });
                    }
                    const qsizetype length = r.header("content-length").toLongLong();
                    if (buffer->size() < end + 4 + length)
                        return; // the rest of the body is on its way
                    r.body = buffer->mid(end + 4, length);
                    buffer->remove(0, end + 4 + length);
                    m_requests.append(r);
                    m_handler(socket, r);
                    if (!socket->isOpen())
                        return;
                }
            });
        }
    });
}

QByteArray HostileServer::origin() const
{
    return "http://127.0.0.1:" + QByteArray::number(port());
}

int HostileServer::count(const QByteArray &pathPrefix) const
{
    int n = 0;
    for (const Request &r : m_requests)
        n += r.path.startsWith(pathPrefix) ? 1 : 0;
    return n;
}

void HostileServer::reply(QTcpSocket *socket, int status, const QByteArray &contentType, const QByteArray &body,
    const QList<QPair<QByteArray, QByteArray>> &headers)
{
    QByteArray out = "HTTP/1.1 " + QByteArray::number(status) + " X\r\nContent-Type: " + contentType
        + "\r\nContent-Length: " + QByteArray::number(body.size()) + "\r\n";
    for (const auto &[k, v] : headers)
        out += k + ": " + v + "\r\n";
    out += "\r\n" + body;
    socket->write(out);
}

void HostileServer::beginStream(QTcpSocket *socket, const QList<QPair<QByteArray, QByteArray>> &headers)
{
    QByteArray out = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
                     "Connection: close\r\n";
    for (const auto &[k, v] : headers)
        out += k + ": " + v + "\r\n";
    socket->write(out + "\r\n");
}

QByteArray meJson()
{
    return R"({"id":"ana","name":"ana","role":"viewer","roles":["viewer"],"server_time":"2025-11-12T09:00:00Z"})";
}

QByteArray snapshotJson(qint64 sequence)
{
    return R"({"sequence":)" + QByteArray::number(sequence)
        + R"(,"time":"2025-11-12T09:00:00Z","regions":[],"workers":[],"operations":[]})";
}
