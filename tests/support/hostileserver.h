#pragma once

#include <QByteArray>
#include <QList>
#include <QObject>
#include <QPointer>
#include <QTcpServer>

#include <functional>

class QTcpSocket;

// Test fixture: an HTTP server on a free loopback port that misbehaves on purpose. Each request's head is parsed and
// handed to the test's handler with the socket, so the handler can answer anything: a redirect, a body that trickles,
// a stream with a line that never ends, the wrong content type. Every request is recorded (method, path, headers).
class HostileServer : public QObject
{
    Q_OBJECT

public:
    struct Request
    {
        QByteArray method;
        QByteArray path;
        QList<QPair<QByteArray, QByteArray>> headers;
        QByteArray body;
        QByteArray header(const QByteArray &name) const;
    };
    using Handler = std::function<void(QTcpSocket *socket, const Request &request)>;

    explicit HostileServer(Handler handler, QObject *parent = nullptr);
    quint16 port() const { return m_server.serverPort(); }
    QByteArray origin() const; // "http://127.0.0.1:PORT"
    const QList<Request> &requests() const { return m_requests; }
    int count(const QByteArray &pathPrefix) const;

    // Helpers for handlers.
    static void reply(QTcpSocket *socket, int status, const QByteArray &contentType, const QByteArray &body,
        const QList<QPair<QByteArray, QByteArray>> &headers = {});
    static void beginStream(QTcpSocket *socket, const QList<QPair<QByteArray, QByteArray>> &headers = {});

private:
    QTcpServer m_server;
    Handler m_handler;
    QList<Request> m_requests;
};

// A /v1/me answer and a tiny valid snapshot, for servers that are hostile only somewhere else.
QByteArray meJson();
QByteArray snapshotJson(qint64 sequence);
