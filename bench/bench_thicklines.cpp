// Ways to draw a 3 px line (issue #14's war-room display): one random-walk series of 7,600 points across a
// 3840-pixel-wide image, drawn ten times per way, into a QImage on the raster engine. The wide QPen through
// QStroker (what Qt Charts' own series and a plain drawPolyline do) against square-capped segments with
// drawLines (the raster engine fills each as a quadrilateral: HealthChart's path for wide lines), with and without
// antialiasing, and a 1 px cosmetic polyline for scale.
//
//   QT_QPA_PLATFORM=offscreen build/release/bench/bench_thicklines

#include <QElapsedTimer>
#include <QGuiApplication>
#include <QImage>
#include <QPainter>
#include <QPolygonF>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <random>

int main(int argc, char **argv)
{
    QGuiApplication app(argc, argv);
    QImage image(3840, 600, QImage::Format_ARGB32_Premultiplied);
    QPolygonF line;
    std::mt19937 rng(1);
    std::uniform_real_distribution<double> step(-20, 20);
    double y = 300;
    for (int i = 0; i < 7600; ++i) {
        y = std::clamp(y + step(rng), 10.0, 590.0);
        line << QPointF(i * 0.5, y);
    }
    QList<QLineF> segments;
    for (qsizetype i = 1; i < line.size(); ++i)
        segments << QLineF(line[i - 1], line[i]);

    auto run = [&](const char *name, bool antialiased, const std::function<void(QPainter &)> &draw) {
        double best = 1e9;
        for (int rep = 0; rep < 3; ++rep) {
            image.fill(Qt::black);
            QPainter p(&image);
            p.setRenderHint(QPainter::Antialiasing, antialiased);
            QElapsedTimer t;
            t.start();
            for (int k = 0; k < 10; ++k)
                draw(p);
            best = std::min(best, double(t.nsecsElapsed()) / 1e6 / 10);
        }
        std::printf("  %-44s %8.2f ms\n", name, best);
    };
    std::printf("one series, %d points, 3840x600 px (best of 3 x 10 draws)\n", int(line.size()));
    run("1 px cosmetic polyline (antialiased)", true, [&](QPainter &p) {
        QPen pen(Qt::green, 1);
        pen.setCosmetic(true);
        p.setPen(pen);
        p.drawPolyline(line);
    });
    run("3 px polyline through QStroker (antialiased)", true, [&](QPainter &p) {
        p.setPen(QPen(Qt::green, 3, Qt::SolidLine, Qt::SquareCap, Qt::BevelJoin));
        p.drawPolyline(line);
    });
    run("3 px square-capped segments (antialiased)", true, [&](QPainter &p) {
        p.setPen(QPen(Qt::green, 3, Qt::SolidLine, Qt::SquareCap));
        p.drawLines(segments);
    });
    run("3 px square-capped segments (HealthChart)", false, [&](QPainter &p) {
        p.setPen(QPen(Qt::green, 3, Qt::SolidLine, Qt::SquareCap));
        p.drawLines(segments);
    });
    return 0;
}
