"""Demo catalog: cities, categories and a few dozen listed organizations (idempotent)."""

import io
import random
from datetime import timedelta
from decimal import Decimal

from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image, ImageDraw

from catalog.models import Category, City, Organization, Service
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

# slug, name, parent slug
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
COLORS = [(11, 94, 215), (25, 135, 84), (220, 53, 69), (255, 193, 7), (111, 66, 193), (13, 202, 240)]


def _picture(seed: int) -> ContentFile:
    """A small generated JPEG (a gradient with shapes), different for each seed."""
    rnd = random.Random(seed)
    base = COLORS[seed % len(COLORS)]
    image = Image.new("RGB", (800, 500), base)
    draw = ImageDraw.Draw(image)
    for y in range(0, 500, 10):
        shade = tuple(min(255, c + y // 4) for c in base)
        draw.rectangle([0, y, 800, y + 10], fill=shade)
    for _ in range(6):
        x, y, r = rnd.randint(0, 800), rnd.randint(0, 500), rnd.randint(30, 120)
        draw.ellipse([x - r, y - r, x + r, y + r], fill=COLORS[rnd.randint(0, len(COLORS) - 1)])
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return ContentFile(out.getvalue(), name=f"demo-{seed}.jpg")


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
            photo_add(organization=organization, by=organization.owner, image=_picture(seed * 10 + position))
    # Listed for a year from the first seeding; a re-run only renews a listing about to end.
    if not organization.listed_until or organization.listed_until < timezone.now() + timedelta(days=30):
        listing_extend(organization=organization, until=timezone.now() + timedelta(days=365))
    return organization


def seed(stdout, context=None) -> dict:
    context = context or {}
    cities = {}
    for slug, name, tz in CITIES:
        cities[slug], _created = City.objects.update_or_create(slug=slug, defaults={"name": name, "timezone": tz})
    categories = {}
    for position, (slug, name, parent) in enumerate(CATEGORIES):
        categories[slug], _created = Category.objects.update_or_create(
            slug=slug, defaults={"name": name, "parent": categories.get(parent), "position": position}
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
            parent = categories.get(next(p for s, _n, p in CATEGORIES if s == kind) or "")
            organizations.append(
                _organization(
                    owner=users[seed_no % len(users)],
                    name=name,
                    city=city,
                    categories=[c for c in (category, parent) if c],
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
