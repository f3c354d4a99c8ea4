import pytest

from shop.models import Category
from shop.tests.factories import CategoryFactory, ProductFactory

pytestmark = pytest.mark.django_db

CATEGORIES = "/api/v1/categories/"


@pytest.fixture
def tree():
    clothing = CategoryFactory(name="Clothing", slug="clothing", sort_order=2)
    hoodies = CategoryFactory(name="Hoodies", slug="hoodies", parent=clothing, sort_order=1)
    CategoryFactory(name="Zip hoodies", slug="zip-hoodies", parent=hoodies)
    CategoryFactory(name="Jeans", slug="jeans", parent=clothing, sort_order=0)
    books = CategoryFactory(name="Books", slug="books", sort_order=1)
    hidden = CategoryFactory(name="Hidden", slug="hidden", parent=books, is_active=False)
    CategoryFactory(name="Under hidden", slug="under-hidden", parent=hidden)
    return {"clothing": clothing, "hoodies": hoodies, "books": books, "hidden": hidden}


def node(slug, name, depth, sort_order=0, children=()):
    return {
        "slug": slug,
        "name": name,
        "description": "",
        "depth": depth,
        "sort_order": sort_order,
        "children": list(children),
    }


def test_tree_nests_every_level_sorted_and_hides_inactive_branches(api_client, tree):
    response = api_client.get(CATEGORIES)

    assert response.status_code == 200
    assert response.json() == [
        node("books", "Books", 0, 1),
        node(
            "clothing",
            "Clothing",
            0,
            2,
            [
                node("jeans", "Jeans", 1, 0),
                node("hoodies", "Hoodies", 1, 1, [node("zip-hoodies", "Zip hoodies", 2)]),
            ],
        ),
    ]


def test_category_detail_has_breadcrumb_and_subtree(api_client, tree):
    response = api_client.get(f"{CATEGORIES}hoodies/")

    assert response.status_code == 200
    assert response.json() == {
        "slug": "hoodies",
        "name": "Hoodies",
        "description": "",
        "depth": 1,
        "sort_order": 1,
        "is_active": True,
        "parent": {"slug": "clothing", "name": "Clothing"},
        "ancestors": [{"slug": "clothing", "name": "Clothing"}],
        "children": [node("zip-hoodies", "Zip hoodies", 2)],
    }


@pytest.mark.parametrize("slug", ["hidden", "under-hidden", "missing"])
def test_inactive_unknown_or_hidden_branch_category_is_404(api_client, tree, slug):
    response = api_client.get(f"{CATEGORIES}{slug}/")

    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "category_not_found"


def test_tree_costs_one_query_whatever_its_size(api_client, django_assert_num_queries):
    parent = None
    for level in range(6):
        parent = CategoryFactory(slug=f"level-{level}", parent=parent)
        for sibling in range(5):
            CategoryFactory(slug=f"level-{level}-{sibling}", parent=parent)

    with django_assert_num_queries(1):
        response = api_client.get(CATEGORIES)

    assert response.status_code == 200
    assert len(response.json()) == 1


def test_category_detail_costs_two_queries(api_client, tree, django_assert_num_queries):
    with django_assert_num_queries(2):
        assert api_client.get(f"{CATEGORIES}clothing/").status_code == 200


def test_staff_create_edit_move_and_delete_categories(staff_client, api_client, tree):
    created = staff_client.post(CATEGORIES, {"name": "Zip Jeans", "parent": "jeans"}, format="json")
    assert created.status_code == 201
    assert created.json()["slug"] == "zip-jeans"
    assert created.json()["ancestors"] == [{"slug": "clothing", "name": "Clothing"}, {"slug": "jeans", "name": "Jeans"}]

    moved = staff_client.patch(f"{CATEGORIES}hoodies/", {"parent": "books", "name": "Hoodie books"}, format="json")
    assert moved.status_code == 200
    assert moved.json()["parent"] == {"slug": "books", "name": "Books"}
    zip_hoodies = Category.objects.get(slug="zip-hoodies")
    assert zip_hoodies.path == f"/{tree['books'].pk}/{tree['hoodies'].pk}/{zip_hoodies.pk}/"
    assert zip_hoodies.depth == 2
    assert [child["slug"] for child in api_client.get(f"{CATEGORIES}books/").json()["children"]] == ["hoodies"]

    assert staff_client.delete(f"{CATEGORIES}zip-jeans/").status_code == 204
    assert not Category.objects.filter(slug="zip-jeans").exists()


def test_a_category_cannot_move_under_its_own_subtree(staff_client, tree):
    response = staff_client.patch(f"{CATEGORIES}clothing/", {"parent": "zip-hoodies"}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == [
        {
            "code": "invalid_category_parent",
            "detail": "A category cannot be placed under itself or one of its descendants.",
            "attr": "parent",
        }
    ]
    assert Category.objects.get(slug="clothing").parent_id is None


def test_a_category_in_use_cannot_be_deleted(staff_client, tree):
    ProductFactory(category=Category.objects.get(slug="jeans"))

    assert staff_client.delete(f"{CATEGORIES}clothing/").json()["errors"][0]["code"] == "category_in_use"
    response = staff_client.delete(f"{CATEGORIES}jeans/")
    assert response.status_code == 409
    assert Category.objects.filter(slug="jeans").exists()


def test_duplicate_category_slug_is_400(staff_client, tree):
    response = staff_client.post(CATEGORIES, {"name": "Again", "slug": "clothing"}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "slug"


def test_customers_and_anonymous_cannot_write_categories(api_client, auth_client, tree):
    assert api_client.post(CATEGORIES, {"name": "X"}, format="json").status_code == 401
    assert auth_client.post(CATEGORIES, {"name": "X"}, format="json").status_code == 403
    assert auth_client.patch(f"{CATEGORIES}clothing/", {"name": "X"}, format="json").status_code == 403
    assert auth_client.delete(f"{CATEGORIES}books/").status_code == 403
    assert Category.objects.get(slug="clothing").name == "Clothing"
    assert Category.objects.count() == 7
