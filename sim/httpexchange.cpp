#include "httpexchange.h"

#include <QHttpServerResponder>
#include <QTcpSocket>

namespace fleet::sim {

// Qt 6.4 API. On 6.5+ the socket is no longer reachable: keep the peer state through QHttpServerResponder's own
// signals instead; on 6.8+ write the stream with writeBeginChunked()/writeChunk().
struct HttpExchange::Private
{
    explicit Private(QHttpServerResponder &&r)
        : responder(std::move(r))
        , socket(responder.socket())
    {
    }
    QHttpServerResponder responder;
    QPointer<QTcpSocket> socket;
};

HttpExchange::HttpExchange(QHttpServerResponder &&responder)
    : d(new Private(std::move(responder)))
{
}

HttpExchange::~HttpExchange()
{
    delete d;
}

bool HttpExchange::isConnected() const
{
    return d->socket && d->socket->isOpen() && d->socket->state() == QAbstractSocket::ConnectedState;
}

void HttpExchange::send(int status, const QByteArray &contentType, const QByteArray &body, const Headers &headers)
{
    if (!d->socket || !d->socket->isOpen())
        return;
    d->responder.writeStatusLine(static_cast<QHttpServerResponder::StatusCode>(status));
    d->responder.writeHeader(QByteArrayLiteral("Content-Type"), contentType);
    d->responder.writeHeader(QByteArrayLiteral("Content-Length"), QByteArray::number(body.size()));
    d->responder.writeHeader(QByteArrayLiteral("Cache-Control"), QByteArrayLiteral("no-store"));
    for (const auto &[name, value] : headers)
        d->responder.writeHeader(name, value);
    d->responder.writeBody(body);
}

void HttpExchange::beginStream(int status, const Headers &headers)
{
    d->responder.writeStatusLine(static_cast<QHttpServerResponder::StatusCode>(status));
    for (const auto &[name, value] : headers)
        d->responder.writeHeader(name, value);
}

void HttpExchange::write(const QByteArray &chunk)
{
    if (isConnected())
        d->responder.writeBody(chunk);
}

qint64 HttpExchange::bytesToWrite() const
{
    return d->socket ? d->socket->bytesToWrite() : 0;
}

void HttpExchange::close()
{
    if (d->socket)
        d->socket->disconnectFromHost();
}

void HttpExchange::abort()
{
    if (d->socket)
        d->socket->abort();
}

} // namespace fleet::sim
