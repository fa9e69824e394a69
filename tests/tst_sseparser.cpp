#include "sseparser.h"

#include <QTest>

using fleet::SseParser;

namespace {

struct Expected
{
    QString type;
    QByteArray data;
    QString id;
};

} // namespace

Q_DECLARE_METATYPE(QList<Expected>)

class TestSseParser : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void parses_data();
    void parses();
    void splitAtEveryByte_data() { parses_data(); }
    void splitAtEveryByte();
    void byteByByte_data() { parses_data(); }
    void byteByByte();
    void commentsAndRetry();
    void resetKeepsLastEventId();
};

void TestSseParser::parses_data()
{
    QTest::addColumn<QByteArray>("stream");
    QTest::addColumn<QList<Expected>>("expected");
    QTest::newRow("simple") << QByteArray("data: hello\n\n")
                            << QList<Expected> { { QStringLiteral("message"), "hello", {} } };
    QTest::newRow("fleet-sim framing") << QByteArray(
        "retry: 3000\n: hi\n\nid: 41\nevent: worker\ndata: {\"id\":\"w-1\"}\n\nid: 42\nevent: health\ndata: {}\n\n")
                                       << QList<Expected> { { QStringLiteral("worker"), "{\"id\":\"w-1\"}",
                                                                QStringLiteral("41") },
                                              { QStringLiteral("health"), "{}", QStringLiteral("42") } };
    QTest::newRow("multi-line data") << QByteArray("data: a\ndata:b\ndata\ndata:  c\n\n")
                                     << QList<Expected> { { QStringLiteral("message"), "a\nb\n\n c", {} } };
    QTest::newRow("CRLF") << QByteArray("event: x\r\ndata: 1\r\n\r\ndata: 2\r\n\r\n")
                          << QList<Expected> { { QStringLiteral("x"), "1", {} },
                                 { QStringLiteral("message"), "2", {} } };
    QTest::newRow("CR only") << QByteArray("id: 5\rdata: 1\r\rdata: 2\r\r")
                             << QList<Expected> { { QStringLiteral("message"), "1", QStringLiteral("5") },
                                    { QStringLiteral("message"), "2", QStringLiteral("5") } };
    QTest::newRow("mixed line ends") << QByteArray("data: 1\r\n\ndata: 2\r\r\ndata: 3\n\r")
                                     << QList<Expected> { { QStringLiteral("message"), "1", {} },
                                            { QStringLiteral("message"), "2", {} },
                                            { QStringLiteral("message"), "3", {} } };
    QTest::newRow("leading BOM") << QByteArray("\xEF\xBB\xBF"
                                               "data: bom\n\n")
                                 << QList<Expected> { { QStringLiteral("message"), "bom", {} } };
    QTest::newRow("only first BOM stripped") << QByteArray("\xEF\xBB\xBF\xEF\xBB\xBF"
                                                           "data: x\n\n")
                                             << QList<Expected> {}; // the second BOM makes the field name unknown
    QTest::newRow("no data, no event") << QByteArray("event: ping\n\nid: 9\n\ndata: after\n\n")
                                       << QList<Expected> { { QStringLiteral("message"), "after",
                                              QStringLiteral("9") } };
    static const char withNul[] = "id: 1\ndata: a\n\nid: 2\0x\ndata: b\n\n";
    QTest::newRow("id with NUL ignored") << QByteArray(withNul, sizeof withNul - 1)
                                         << QList<Expected> { { QStringLiteral("message"), "a", QStringLiteral("1") },
                                                { QStringLiteral("message"), "b", QStringLiteral("1") } };
    QTest::newRow("empty id resets") << QByteArray("id: 1\ndata: a\n\nid\ndata: b\n\n")
                                     << QList<Expected> { { QStringLiteral("message"), "a", QStringLiteral("1") },
                                            { QStringLiteral("message"), "b", QString() } };
    QTest::newRow("unknown field ignored")
        << QByteArray("foo: bar\ndata: x\n\n") << QList<Expected> { { QStringLiteral("message"), "x", {} } };
    QTest::newRow("incomplete event dropped") << QByteArray("data: done\n\ndata: never finished\n")
                                              << QList<Expected> { { QStringLiteral("message"), "done", {} } };
    QTest::newRow("colon in value") << QByteArray("data: a: b\n\n")
                                    << QList<Expected> { { QStringLiteral("message"), "a: b", {} } };
    QTest::newRow("utf8 split") << QByteArray("event: caf\xC3\xA9\ndata: \xE2\x9C\x93\n\n")
                                << QList<Expected> { { QString::fromUtf8("caf\xC3\xA9"), "\xE2\x9C\x93", {} } };
}

static void compare(const SseParser::Output &out, const QList<Expected> &expected)
{
    QCOMPARE(int(out.events.size()), expected.size());
    for (int i = 0; i < expected.size(); ++i) {
        QCOMPARE(out.events[i].type, expected[i].type);
        QCOMPARE(out.events[i].data, expected[i].data);
        QCOMPARE(out.events[i].lastEventId, expected[i].id);
    }
}

void TestSseParser::parses()
{
    QFETCH(QByteArray, stream);
    QFETCH(QList<Expected>, expected);
    SseParser parser;
    SseParser::Output out;
    parser.feed(stream, &out);
    compare(out, expected);
}

void TestSseParser::splitAtEveryByte()
{
    QFETCH(QByteArray, stream);
    QFETCH(QList<Expected>, expected);
    for (qsizetype cut = 0; cut <= stream.size(); ++cut) {
        for (qsizetype cut2 = cut; cut2 <= stream.size(); ++cut2) {
            SseParser parser;
            SseParser::Output out;
            parser.feed(QByteArrayView(stream).first(cut), &out);
            parser.feed(QByteArrayView(stream).sliced(cut, cut2 - cut), &out);
            parser.feed(QByteArrayView(stream).sliced(cut2), &out);
            compare(out, expected);
            if (QTest::currentTestFailed()) {
                qWarning() << "cut at" << cut << "and" << cut2;
                return;
            }
        }
    }
}

void TestSseParser::byteByByte()
{
    QFETCH(QByteArray, stream);
    QFETCH(QList<Expected>, expected);
    SseParser parser;
    SseParser::Output out;
    for (const char c : stream)
        parser.feed(QByteArrayView(&c, 1), &out);
    compare(out, expected);
}

void TestSseParser::commentsAndRetry()
{
    SseParser parser;
    SseParser::Output out;
    parser.feed(": heartbeat 2025-11-12T09:13:00Z\n\n:\n\nretry: 2500\n\nretry: soon\n\nretry: 12x\n\n", &out);
    QCOMPARE(out.comments, 2);
    QCOMPARE(out.retryMs.value_or(-1), 2500); // invalid values are ignored
    QVERIFY(out.events.empty());
}

void TestSseParser::resetKeepsLastEventId()
{
    SseParser parser;
    SseParser::Output out;
    parser.feed("id: 77\ndata: x\n\ndata: half", &out);
    QCOMPARE(parser.lastEventId(), QStringLiteral("77"));
    parser.reset();
    parser.feed("\n\ndata: next\n\n", &out);
    QCOMPARE(int(out.events.size()), 2); // "half" was dropped with the old connection
    QCOMPARE(out.events[1].data, QByteArray("next"));
    QCOMPARE(out.events[1].lastEventId, QStringLiteral("77"));
}

QTEST_APPLESS_MAIN(TestSseParser)
#include "tst_sseparser.moc"
