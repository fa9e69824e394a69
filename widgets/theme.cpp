#include "theme.h"

#include <QApplication>
#include <QCoreApplication>
#include <QPainter>
#include <QPainterPath>
#include <QStyleFactory>

namespace fleet {

namespace {

Theme g_current = Theme::dark();

QPalette makePalette(const Theme &t)
{
    QPalette p;
    p.setColor(QPalette::Window, t.window);
    p.setColor(QPalette::WindowText, t.text);
    p.setColor(QPalette::Base, t.surface);
    p.setColor(QPalette::AlternateBase, t.surfaceRaised);
    p.setColor(QPalette::ToolTipBase, t.surfaceRaised);
    p.setColor(QPalette::ToolTipText, t.text);
    p.setColor(QPalette::PlaceholderText, t.mutedText);
    p.setColor(QPalette::Text, t.text);
    p.setColor(QPalette::Button, t.surfaceRaised);
    p.setColor(QPalette::ButtonText, t.text);
    p.setColor(QPalette::BrightText, Qt::white);
    p.setColor(QPalette::Highlight, t.accent);
    p.setColor(QPalette::HighlightedText, t.kind == Theme::Kind::Dark ? QColor(Qt::black) : QColor(Qt::white));
    p.setColor(QPalette::Link, t.accent);
    p.setColor(QPalette::Mid, t.grid);
    p.setColor(QPalette::Midlight, t.surfaceRaised.lighter(120));
    p.setColor(QPalette::Dark, t.window.darker(150));
    for (auto role : { QPalette::WindowText, QPalette::Text, QPalette::ButtonText })
        p.setColor(QPalette::Disabled, role, t.mutedText);
    return p;
}

} // namespace

Theme Theme::dark()
{
    Theme t;
    t.kind = Kind::Dark;
    t.window = QColor(0x1b, 0x1e, 0x24);
    t.surface = QColor(0x22, 0x26, 0x2e);
    t.surfaceRaised = QColor(0x2c, 0x31, 0x3b);
    t.text = QColor(0xe6, 0xe9, 0xef);
    t.mutedText = QColor(0x9a, 0xa3, 0xb2);
    t.grid = QColor(0x3a, 0x40, 0x4c);
    t.accent = QColor(0x5c, 0xa8, 0xff);
    t.healthy = QColor(0x3f, 0xb9, 0x50);
    t.degraded = QColor(0xf0, 0xa0, 0x20);
    t.down = QColor(0xf0, 0x4a, 0x4a);
    t.noData = QColor(0x8a, 0x93, 0xa3);
    t.stale = QColor(0xd9, 0x8c, 0x1f);
    t.production = QColor(0xd0, 0x30, 0x30);
    t.demo = QColor(0x8e, 0x5c, 0xe6);
    t.insecure = QColor(0xe0, 0x40, 0x90);
    // Okabe-Ito inspired, brightened for a dark background.
    t.series[0] = QColor(0xff, 0x6b, 0x5b); // ETIMEDOUT: the incident's signature, warm red
    t.series[1] = QColor(0x56, 0xb4, 0xe9);
    t.series[2] = QColor(0xf0, 0xe4, 0x42);
    t.series[3] = QColor(0xcc, 0x79, 0xa7);
    t.series[4] = QColor(0x00, 0xc0, 0x90);
    t.series[5] = QColor(0xe6, 0x9f, 0x00);
    t.palette = makePalette(t);
    return t;
}

Theme Theme::light()
{
    Theme t;
    t.kind = Kind::Light;
    t.window = QColor(0xf3, 0xf4, 0xf6);
    t.surface = QColor(0xff, 0xff, 0xff);
    t.surfaceRaised = QColor(0xe8, 0xea, 0xee);
    t.text = QColor(0x1d, 0x21, 0x27);
    t.mutedText = QColor(0x5b, 0x63, 0x70);
    t.grid = QColor(0xd5, 0xd9, 0xe0);
    t.accent = QColor(0x1f, 0x6f, 0xd1);
    t.healthy = QColor(0x1e, 0x8e, 0x3e);
    t.degraded = QColor(0xb8, 0x6e, 0x00);
    t.down = QColor(0xc6, 0x28, 0x28);
    t.noData = QColor(0x70, 0x78, 0x85);
    t.stale = QColor(0xa8, 0x62, 0x00);
    t.production = QColor(0xc0, 0x1c, 0x1c);
    t.demo = QColor(0x6a, 0x3d, 0xc0);
    t.insecure = QColor(0xc0, 0x1f, 0x70);
    t.series[0] = QColor(0xd5, 0x3e, 0x2f);
    t.series[1] = QColor(0x00, 0x72, 0xb2);
    t.series[2] = QColor(0x9a, 0x8a, 0x00);
    t.series[3] = QColor(0xa8, 0x4c, 0x85);
    t.series[4] = QColor(0x00, 0x8f, 0x6b);
    t.series[5] = QColor(0xc7, 0x7c, 0x00);
    t.palette = makePalette(t);
    return t;
}

Theme Theme::byName(const QString &name, bool *ok)
{
    const QString n = name.trimmed().toLower();
    if (ok)
        *ok = n == QLatin1String("dark") || n == QLatin1String("light");
    return n == QLatin1String("light") ? light() : dark();
}

QString Theme::name() const
{
    return kind == Kind::Light ? QStringLiteral("light") : QStringLiteral("dark");
}

void Theme::apply(QApplication *app) const
{
    g_current = *this;
    if (QStyle *fusion = QStyleFactory::create(QStringLiteral("Fusion")))
        QApplication::setStyle(fusion);
    QApplication::setPalette(palette);
    if (app)
        app->setProperty("fleetTheme", name());
}

const Theme &Theme::current()
{
    return g_current;
}

QColor Theme::verdictColor(Verdict verdict) const
{
    switch (verdict) {
    case Verdict::Healthy:
        return healthy;
    case Verdict::Degraded:
        return degraded;
    case Verdict::Down:
        return down;
    case Verdict::NoData:
        break;
    }
    return noData;
}

QString verdictLabel(Verdict verdict)
{
    switch (verdict) {
    case Verdict::Healthy:
        return QCoreApplication::translate("fleet::Verdict", "Healthy");
    case Verdict::Degraded:
        return QCoreApplication::translate("fleet::Verdict", "Degraded");
    case Verdict::Down:
        return QCoreApplication::translate("fleet::Verdict", "Down");
    case Verdict::NoData:
        break;
    }
    return QCoreApplication::translate("fleet::Verdict", "No data");
}

void paintVerdictGlyph(QPainter *painter, const QRectF &rect, Verdict verdict, const Theme &theme)
{
    painter->save();
    painter->setRenderHint(QPainter::Antialiasing);
    const QColor c = theme.verdictColor(verdict);
    const QRectF r = rect.adjusted(1, 1, -1, -1);
    const QColor ink = theme.kind == Theme::Kind::Dark ? QColor(0x10, 0x12, 0x16) : QColor(Qt::white);
    QPen inkPen(ink, std::max(1.5, r.width() / 8), Qt::SolidLine, Qt::RoundCap);
    switch (verdict) {
    case Verdict::Healthy: {
        painter->setPen(Qt::NoPen);
        painter->setBrush(c);
        painter->drawEllipse(r);
        painter->setPen(inkPen); // a check mark
        QPainterPath check;
        check.moveTo(r.left() + r.width() * 0.28, r.center().y());
        check.lineTo(r.left() + r.width() * 0.45, r.top() + r.height() * 0.68);
        check.lineTo(r.left() + r.width() * 0.74, r.top() + r.height() * 0.33);
        painter->setBrush(Qt::NoBrush);
        painter->drawPath(check);
        break;
    }
    case Verdict::Degraded: {
        QPainterPath tri;
        tri.moveTo(r.center().x(), r.top());
        tri.lineTo(r.right(), r.bottom());
        tri.lineTo(r.left(), r.bottom());
        tri.closeSubpath();
        painter->setPen(Qt::NoPen);
        painter->setBrush(c);
        painter->drawPath(tri);
        painter->setPen(inkPen);
        const double x = r.center().x();
        painter->drawLine(QPointF(x, r.top() + r.height() * 0.38), QPointF(x, r.top() + r.height() * 0.66));
        painter->drawPoint(QPointF(x, r.top() + r.height() * 0.84));
        break;
    }
    case Verdict::Down: {
        painter->setPen(Qt::NoPen);
        painter->setBrush(c);
        painter->drawRoundedRect(r, r.width() * 0.15, r.height() * 0.15);
        painter->setPen(inkPen);
        const QRectF x = r.adjusted(r.width() * 0.3, r.height() * 0.3, -r.width() * 0.3, -r.height() * 0.3);
        painter->drawLine(x.topLeft(), x.bottomRight());
        painter->drawLine(x.topRight(), x.bottomLeft());
        break;
    }
    case Verdict::NoData: {
        QPen pen(c, std::max(1.5, r.width() / 9), Qt::DashLine);
        painter->setPen(pen);
        painter->setBrush(Qt::NoBrush);
        painter->drawEllipse(r.adjusted(1, 1, -1, -1));
        break;
    }
    }
    painter->restore();
}

} // namespace fleet
