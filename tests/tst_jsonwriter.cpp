#include "isotime.h"
#include "jsonwriter.h"
#include "wireencode.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

using namespace fleet;

class TestJsonWriter : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void escapesStrings_data();
    void escapesStrings();
    void numbers_data();
    void numbers();
    void nesting();
    void isoTime_data();
    void isoTime();
    void parseIsoRejectsLocalTime();
    void workerRoundTripsThroughQJson();
    void healthGapHasNullMetrics();
};

void TestJsonWriter::escapesStrings_data()
{
    QTest::addColumn<QString>("text");
    QTest::newRow("plain") << QStringLiteral("eu-central");
    QTest::newRow("quotes and backslash") << QStringLiteral("a\"b\\c");
    QTest::newRow("control characters") << QStringLiteral("line\nnext\ttab\r\x01\x1f");
    QTest::newRow("markup") << QStringLiteral("<b>worker</b><script>alert(1)</script>");
    QTest::newRow("non-ascii") << QStringLiteral("São Paulo — ✓");
    QTest::newRow("astral") << QString::fromUtf8("\xF0\x9F\x9A\x80 rocket");
    QTest::newRow("line separators") << QString(QChar(0x2028)) + QChar(0x2029);
}

void TestJsonWriter::escapesStrings()
{
    QFETCH(QString, text);
    QByteArray out;
    JsonWriter w(&out);
    w.beginObject();
    w.field("name", QStringView(text));
    w.endObject();
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(out, &error);
    QCOMPARE(error.error, QJsonParseError::NoError);
    QCOMPARE(doc.object().value(QLatin1String("name")).toString(), text);
}

void TestJsonWriter::numbers_data()
{
    QTest::addColumn<double>("value");
    QTest::addColumn<QByteArray>("expected");
    QTest::newRow("zero") << 0.0 << QByteArray("0");
    QTest::newRow("ratio") << 0.31 << QByteArray("0.31");
    QTest::newRow("trailing zeros trimmed") << 24.5 << QByteArray("24.5");
    QTest::newRow("rounded to 4 decimals") << 1.234567 << QByteArray("1.2346");
    QTest::newRow("negative") << -2.5 << QByteArray("-2.5");
    QTest::newRow("not finite") << qQNaN() << QByteArray("null");
    // Past 32 characters with four decimals (found by fuzz_fleetjson: it read past the buffer): exact, in e-notation.
    QTest::newRow("huge") << 1e300 << QByteArray("1.0000000000000001e+300");
    QTest::newRow("most negative") << -1.7976931348623157e308 << QByteArray("-1.7976931348623157e+308");
    QTest::newRow("just too long") << 1e26 << QByteArray("1e+26");
}

void TestJsonWriter::numbers()
{
    QFETCH(double, value);
    QFETCH(QByteArray, expected);
    QByteArray out;
    JsonWriter w(&out);
    w.value(value);
    QCOMPARE(out, expected);
}

void TestJsonWriter::nesting()
{
    QByteArray out;
    JsonWriter w(&out);
    w.beginObject();
    w.key("a");
    w.beginArray();
    w.value(1);
    w.beginObject();
    w.field("b", true);
    w.key("c");
    w.null();
    w.endObject();
    w.beginArray();
    w.endArray();
    w.endArray();
    w.field("d", QStringView(u"x"));
    w.endObject();
    QCOMPARE(out, QByteArray(R"({"a":[1,{"b":true,"c":null},[]],"d":"x"})"));
}

void TestJsonWriter::isoTime_data()
{
    QTest::addColumn<qint64>("ms");
    QTest::addColumn<QString>("text");
    QTest::newRow("epoch") << qint64(1000) << QStringLiteral("1970-01-01T00:00:01Z");
    QTest::newRow("incident") << qint64(1762938780000) << QStringLiteral("2025-11-12T09:13:00Z");
    QTest::newRow("millis") << qint64(1762938780123) << QStringLiteral("2025-11-12T09:13:00.123Z");
    QTest::newRow("leap day") << qint64(1709164800000) << QStringLiteral("2024-02-29T00:00:00Z");
    QTest::newRow("before epoch") << qint64(-1000) << QStringLiteral("1969-12-31T23:59:59Z");
}

void TestJsonWriter::isoTime()
{
    QFETCH(qint64, ms);
    QFETCH(QString, text);
    QCOMPARE(formatIsoUtc(ms), text);
    QCOMPARE(parseIsoUtc(text).value_or(-42), ms);
    // Cross-check the hand-written formatter against QDateTime.
    QCOMPARE(QDateTime::fromString(text, Qt::ISODateWithMs).toMSecsSinceEpoch(), ms);
}

void TestJsonWriter::parseIsoRejectsLocalTime()
{
    QVERIFY(!parseIsoUtc(u"2025-11-12T09:13:00"));
    QVERIFY(!parseIsoUtc(u"yesterday"));
    QVERIFY(!parseIsoUtc(u""));
    QCOMPARE(parseIsoUtc(u"2025-11-12T10:13:00+01:00").value_or(0), qint64(1762938780000));
}

void TestJsonWriter::workerRoundTripsThroughQJson()
{
    Worker worker;
    worker.id = QStringLiteral("w-000001");
    worker.name = QStringLiteral("<img src=x onerror=alert(1)>");
    worker.region = QStringLiteral("eu-central");
    worker.arch = Arch::Armv7hf;
    worker.state = WorkerState::Busy;
    worker.version = QStringLiteral("2025.11.2");
    worker.startedAt = 1762938780000;
    worker.currentBuild = QStringLiteral("b-1");
    worker.recentFailures[int(FailureReason::ETimedOut)] = 3;
    QByteArray out;
    JsonWriter w(&out);
    writeWorker(w, worker);
    const QJsonObject o = QJsonDocument::fromJson(out).object();
    QCOMPARE(o.value(QLatin1String("name")).toString(), worker.name);
    QCOMPARE(o.value(QLatin1String("arch")).toString(), QStringLiteral("armv7hf"));
    QCOMPARE(o.value(QLatin1String("state")).toString(), QStringLiteral("busy"));
    QCOMPARE(o.value(QLatin1String("started_at")).toString(), QStringLiteral("2025-11-12T09:13:00Z"));
    QVERIFY(o.value(QLatin1String("last_heartbeat_at")).isNull());
    QVERIFY(o.value(QLatin1String("offline_reason")).isNull());
    QCOMPARE(o.value(QLatin1String("recent_failures")).toObject().value(QLatin1String("ETIMEDOUT")).toInt(), 3);
}

void TestJsonWriter::healthGapHasNullMetrics()
{
    HealthSample gap;
    gap.time = 1762938780000;
    gap.stepSeconds = 60;
    QByteArray out;
    JsonWriter w(&out);
    writeHealthSample(w, gap);
    const QJsonObject o = QJsonDocument::fromJson(out).object();
    QCOMPARE(o.value(QLatin1String("samples")).toInt(-1), 0);
    QVERIFY(o.value(QLatin1String("packet_loss")).isNull());
    QVERIFY(o.value(QLatin1String("builds")).isNull());
    QVERIFY(o.contains(QLatin1String("failures")));
}

QTEST_APPLESS_MAIN(TestJsonWriter)
#include "tst_jsonwriter.moc"
