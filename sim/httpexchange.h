#pragma once

#include <QByteArray>
#include <QPointer>

#include <utility>
#include <vector>

class QHttpServerResponder;
class QTcpSocket;

namespace fleet::sim {

// One HTTP exchange of fleet-sim as a transport: a whole answer, or an open stream written to in chunks. It is the
// only code that touches QHttpServerResponder's low-level calls, which Qt changed after 6.4 (socket() went in 6.5;
// writeStatusLine(), writeHeader() and writeBody() in 6.8, replaced by writeBeginChunked()/writeChunk() and a
// headers object): porting fleet-sim to a newer Qt HttpServer is this class's .cpp. The server's handlers only make
// replies; this carries them.
class HttpExchange
{
public:
    using Headers = std::vector<std::pair<QByteArray, QByteArray>>;

    explicit HttpExchange(QHttpServerResponder &&responder);
    ~HttpExchange();
    HttpExchange(const HttpExchange &) = delete;
    HttpExchange &operator=(const HttpExchange &) = delete;

    bool isConnected() const; // the client is still there
    // The whole answer with Content-Length (and Cache-Control: no-store); nothing when the client has gone.
    void send(int status, const QByteArray &contentType, const QByteArray &body, const Headers &headers);
    // An open-ended answer (an event stream): status and headers now, the body in chunks with write().
    void beginStream(int status, const Headers &headers);
    void write(const QByteArray &chunk);
    qint64 bytesToWrite() const; // written but not yet sent: how far behind the client is
    void close(); // politely, after what was written
    void abort(); // at once, as a crash would

private:
    struct Private;
    Private *d;
};

} // namespace fleet::sim
