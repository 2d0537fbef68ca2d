"""Demo catalog: cities, categories and a few dozen listed organizations (idempotent)."""

import io
from datetime import timedelta
from decimal import Decimal

from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image, ImageDraw, ImageFont

from catalog.models import TONE_RGB, Category, City, Organization, Service, Tone
from catalog.services import listing_extend, organization_slug, photo_add
from portal.demo import first_or_create
from portal.models import User

CITIES = [
    ("moscow", "Москва", "Europe/Moscow"),
    ("spb", "Санкт-Петербург", "Europe/Moscow"),
    ("novosibirsk", "Новосибирск", "Asia/Novosibirsk"),
    ("ekaterinburg", "Екатеринбург", "Asia/Yekaterinburg"),
    ("kazan", "Казань", "Europe/Moscow"),
    ("kaliningrad", "Калининград", "Europe/Kaliningrad"),
]

# slug, name, parent slug (subcategories take their parent's colour)
CATEGORY_TONES = {
    "beauty": Tone.PINK,
    "coworking": Tone.BLUE,
    "repair": Tone.ORANGE,
    "education": Tone.INDIGO,
    "sport": Tone.GREEN,
    "auto": Tone.GRAY,
    "photo-studio": Tone.PURPLE,
    "cleaning": Tone.TEAL,
    "vet": Tone.BROWN,
}
CATEGORIES = [
    ("beauty", "Красота и здоровье", None),
    ("barbershop", "Барбершопы", "beauty"),
    ("beauty-salon", "Салоны красоты", "beauty"),
    ("manicure", "Маникюр и педикюр", "beauty"),
    ("massage", "Массаж", "beauty"),
    ("coworking", "Коворкинги", None),
    ("repair", "Ремонт и мастера", None),
    ("plumbing", "Сантехники", "repair"),
    ("electrician", "Электрики", "repair"),
    ("appliance-repair", "Ремонт техники", "repair"),
    ("education", "Образование", None),
    ("tutors", "Репетиторы", "education"),
    ("language-school", "Языковые школы", "education"),
    ("sport", "Спорт и фитнес", None),
    ("fitness", "Фитнес-клубы", "sport"),
    ("yoga", "Йога", "sport"),
    ("auto", "Автосервисы", None),
    ("photo-studio", "Фотостудии", None),
    ("cleaning", "Клининг", None),
    ("vet", "Ветеринарные клиники", None),
]

# category slug → (names, description, [(service, price, minutes), …])
KINDS = {
    "barbershop": (
        ["Чоп-Чоп", "Усы и стиль", "Барбер Лаб"],
        "Мужские стрижки, оформление бороды и бритьё опасной бритвой. Кофе для гостей.",
        [("Мужская стрижка", 1800, 60), ("Стрижка бороды", 1200, 30), ("Стрижка + борода", 2700, 90)],
    ),
    "beauty-salon": (
        ["Салон «Лаванда»", "Студия красоты «Мята»", "Салон «Жемчуг»"],
        "Стрижки, окрашивание и уход за волосами. Работаем с профессиональной косметикой.",
        [("Женская стрижка", 2500, 60), ("Окрашивание в один тон", 4500, 120), ("Укладка", 1500, 45)],
    ),
    "manicure": (
        ["Ноготок", "Nail Studio «Глянец»"],
        "Маникюр и педикюр с покрытием гель-лаком, стерильные инструменты.",
        [("Маникюр с покрытием", 2200, 90), ("Педикюр", 2800, 90)],
    ),
    "massage": (
        ["Массажный кабинет «Релакс»", "Студия массажа «Баланс»"],
        "Классический, спортивный и лимфодренажный массаж у дипломированных специалистов.",
        [("Классический массаж спины", 2000, 45), ("Общий массаж", 3500, 90)],
    ),
    "plumbing": (
        ["Сантехник на час", "Мастер Труб"],
        "Установка и ремонт сантехники, устранение засоров и протечек. Выезд в день обращения.",
        [("Выезд мастера", 500, 60), ("Замена смесителя", 1500, 60), ("Устранение засора", 2000, 90)],
    ),
    "electrician": (
        ["Электрик 24", "Светлый дом"],
        "Электромонтаж в квартирах и офисах, замена розеток и автоматов, поиск неисправностей.",
        [("Замена розетки", 600, 30), ("Установка люстры", 1500, 60)],
    ),
    "appliance-repair": (
        ["Ремонт стиральных машин «Сервис+»", "Мастерская «Техноремонт»"],
        "Ремонт стиральных и посудомоечных машин, холодильников. Гарантия на работы.",
        [("Диагностика", 700, 30), ("Ремонт стиральной машины", 3500, 120)],
    ),
    "tutors": (
        ["Репетитор по математике Анна", "Центр подготовки к ЕГЭ «Пятёрка»"],
        "Подготовка к ОГЭ и ЕГЭ, занятия для школьников 5–11 классов онлайн и очно.",
        [("Занятие 60 минут", 1800, 60), ("Пробный урок", 0, 30)],
    ),
    "language-school": (
        ["Языковая школа «Глобус»", "English Club"],
        "Английский и немецкий для детей и взрослых, разговорные клубы по выходным.",
        [("Групповое занятие", 900, 90), ("Индивидуальное занятие", 2500, 60)],
    ),
    "fitness": (
        ["Фитнес-клуб «Олимп»", "Зал «Атлет»"],
        "Тренажёрный зал, групповые программы и персональные тренировки.",
        [("Разовое посещение", 800, 120), ("Персональная тренировка", 2500, 60)],
    ),
    "yoga": (
        ["Йога-студия «Прана»", "Студия «Асана»"],
        "Хатха-йога и йога для начинающих в небольших группах.",
        [("Групповое занятие", 700, 75), ("Индивидуальное занятие", 3000, 60)],
    ),
    "auto": (
        ["Автосервис «Гараж»", "Шиномонтаж «Колесо»"],
        "Шиномонтаж, замена масла и диагностика ходовой. Запись без очереди.",
        [("Шиномонтаж (4 колеса)", 2400, 60), ("Замена масла", 1200, 30)],
    ),
    "photo-studio": (
        ["Фотостудия «Свет»", "Студия «Кадр»"],
        "Залы с естественным светом и циклорамой для съёмок и фотосессий.",
        [("Аренда зала на час", 1500, 60), ("Фотосессия с фотографом", 6000, 120)],
    ),
    "cleaning": (
        ["Чистый дом", "Клининг «Блеск»"],
        "Поддерживающая и генеральная уборка квартир, мойка окон.",
        [("Поддерживающая уборка", 3000, 180), ("Мойка окон", 400, 30)],
    ),
    "vet": (
        ["Ветклиника «Айболит»", "Ветеринарный центр «Лапа»"],
        "Приём ветеринарного врача, вакцинация и груминг для кошек и собак.",
        [("Приём терапевта", 1200, 30), ("Вакцинация", 1800, 30)],
    ),
}

STREETS = ["ул. Ленина", "пр. Мира", "ул. Пушкина", "ул. Гагарина", "Советская ул.", "ул. Кирова", "Садовая ул."]
# Bold fonts with Cyrillic letters, by file name (Pillow searches the system's font folders) or path.
FONTS = [
    "DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "LiberationSans-Bold.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf",
    "NotoSans-Bold.ttf",
    "/usr/share/fonts/truetype/noto/NotoSans-Bold.ttf",
    "/System/Library/Fonts/Supplemental/Arial Bold.ttf",
    "arialbd.ttf",
]
LATIN = dict(zip("АБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ", "ABVGDEEZZIIKLMNOPRSTUFHCCSS'Y'EUY", strict=True))


def _font(size: int):
    """A bold font that has Cyrillic letters, and whether it has them (Pillow's own font has not)."""
    for name in FONTS:
        try:
            return ImageFont.truetype(name, size), True
        except OSError:
            continue
    return ImageFont.load_default(size=size), False


def _picture(organization: Organization, variant: int = 0) -> ContentFile:
    """A demo photo that looks intentional: the organization's initials on its category's colour.

    Further photos of the same organization are lighter shades of it.
    """
    base = TONE_RGB[organization.tone]
    light = tuple(min(255, c + 40 * variant) for c in base)
    dark = tuple(max(0, int(c * 0.75)) for c in light)
    width, height = 800, 500
    image = Image.new("RGB", (width, height), light)
    draw = ImageDraw.Draw(image)
    for y in range(height):  # a diagonal-looking vertical gradient
        t = y / height
        draw.line([(0, y), (width, y)], fill=tuple(int(a + (b - a) * t) for a, b in zip(light, dark, strict=True)))
    font, cyrillic = _font(200)
    initials = organization.initials
    if not cyrillic:
        initials = "".join(LATIN.get(letter, letter) for letter in initials)
    draw.text((width / 2, height / 2), initials, font=font, fill=(255, 255, 255), anchor="mm")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return ContentFile(out.getvalue(), name=f"demo-{organization.pk}-{variant}.jpg")


def _phone(seed: int) -> str:
    return f"+7495{1000000 + seed * 7919 % 9000000:07d}"


def _organization(*, owner, name, city, categories, description, address, phone, website, services, photos, seed):
    organization = Organization.objects.filter(external_id=f"demo-{seed}").first()
    if organization is None:
        organization = Organization.objects.create(
            owner=owner,
            name=name,
            slug=organization_slug(name=name, city=city),
            city=city,
            description=description,
            address=address,
            phone=phone,
            website=website,
            status=Organization.Status.PUBLISHED,
            external_id=f"demo-{seed}",
        )
        organization.categories.set(categories)
    for service_name, price, minutes in services:
        first_or_create(
            Service,
            organization=organization,
            name=service_name,
            defaults={"price": Decimal(price), "duration_minutes": minutes},
        )
    if not organization.photos.exists():
        for position in range(photos):
            photo_add(organization=organization, by=organization.owner, image=_picture(organization, position))
    # Listed for a year from the first seeding; a re-run only renews a listing about to end.
    if not organization.listed_until or organization.listed_until < timezone.now() + timedelta(days=30):
        listing_extend(organization=organization, until=timezone.now() + timedelta(days=365))
    return organization


def seed(stdout, context=None) -> dict:
    context = context or {}
    cities = {}
    for slug, name, tz in CITIES:
        cities[slug], _created = City.objects.update_or_create(slug=slug, defaults={"name": name, "timezone": tz})
    categories: dict[str | None, Category] = {}
    for position, (slug, name, parent) in enumerate(CATEGORIES):
        categories[slug], _created = Category.objects.update_or_create(
            slug=slug,
            defaults={
                "name": name,
                "parent": categories.get(parent),
                "position": position,
                "color": CATEGORY_TONES.get(slug, ""),
            },
        )

    users = list(context.get("users") or [])
    if not users:
        owner, _created = User.objects.get_or_create(email="owner@citydesk.local", defaults={"first_name": "Олег"})
        users = [owner]

    moscow = cities["moscow"]
    coworking = _organization(
        owner=users[0],
        name="Точка роста",
        city=moscow,
        categories=[categories["coworking"]],
        description="Коворкинг у метро: открытые рабочие места, переговорные на 4 и 8 человек, "
        "быстрый интернет, кухня и кофе. Открыт ежедневно с 8:00 до 22:00.",
        address="ул. Большая Новодмитровская, 36",
        phone="+74951234567",
        website="https://tochka-rosta.example.ru",
        services=[
            ("Рабочее место на день", 900, 600),
            ("Переговорная на час", 1500, 60),
            ("Рабочее место на час", 250, 60),
        ],
        photos=3,
        seed=1,
    )
    barbershop = _organization(
        owner=users[1 % len(users)],
        name="Борода и Ко",
        city=moscow,
        categories=[categories["barbershop"], categories["beauty"]],
        description="Барбершоп для тех, кто ценит своё время: мужские стрижки, борода и бритьё. "
        "Три мастера, запись онлайн.",
        address="Покровка, 17",
        phone="+74957654321",
        website="https://boroda-i-ko.example.ru",
        services=[("Мужская стрижка", 1800, 60), ("Стрижка бороды", 1200, 30), ("Стрижка + борода", 2700, 90)],
        photos=3,
        seed=2,
    )
    organizations = [coworking, barbershop]
    seed_no = 10
    city_list = list(cities.values())
    for kind, (names, description, services) in KINDS.items():
        for index, name in enumerate(names):
            city = city_list[(seed_no + index) % len(city_list)]
            category = categories[kind]
            parent_category = categories.get(next(p for s, _n, p in CATEGORIES if s == kind) or "")
            organizations.append(
                _organization(
                    owner=users[seed_no % len(users)],
                    name=name,
                    city=city,
                    categories=[c for c in (category, parent_category) if c],
                    description=description,
                    address=f"{STREETS[seed_no % len(STREETS)]}, {seed_no % 90 + 1}",
                    phone=_phone(seed_no),
                    website="",
                    services=services,
                    photos=1 + seed_no % 2,
                    seed=seed_no,
                )
            )
            seed_no += 1
    stdout.write(f"  catalog: {len(cities)} cities, {len(categories)} categories, {len(organizations)} organizations")
    return {
        "cities": cities,
        "categories": categories,
        "organizations": organizations,
        "coworking": coworking,
        "barbershop": barbershop,
    }
