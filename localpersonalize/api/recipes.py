"""The catalogue: ListRecipes, DescribeRecipe, DescribeAlgorithm, DescribeFeatureTransformation."""

from __future__ import annotations

from ..control import recipes
from ..control.store import paginate
from ..errors import InvalidInputException, ResourceNotFoundException
from . import operation


@operation("ListRecipes")
def list_recipes(ctx, p):
    """Every custom recipe and domain use case, filtered by `recipeProvider` and `domain`; opaque tokens."""
    try:
        found = [r.to_api_summary() for r in recipes.list_recipes(p.get("recipeProvider"), p.get("domain"))]
    except ValueError as exc:
        raise InvalidInputException(str(exc)) from None
    page, token = paginate(found, p, scope=f"recipes|{p.get('recipeProvider')}|{p.get('domain')}")
    return {"recipes": page, "nextToken": token}


@operation("DescribeRecipe")
def describe_recipe(ctx, p):
    """ARN, `recipeType`, `algorithmArn`, `featureTransformationArn`, description."""
    r = recipes.recipe_by_arn(p["recipeArn"])
    if r is None:
        raise ResourceNotFoundException(f"The given recipe does not exist: {p['recipeArn']}")
    return {"recipe": r.to_api()}


@operation("DescribeAlgorithm")
def describe_algorithm(ctx, p):
    """The recipe's algorithm with its hyperparameters and ranges."""
    a = recipes.algorithm_by_arn(p["algorithmArn"])
    if a is None:
        raise ResourceNotFoundException(f"The given algorithm does not exist: {p['algorithmArn']}")
    return {"algorithm": a}


@operation("DescribeFeatureTransformation")
def describe_feature_transformation(ctx, p):
    """The recipe's feature transformation."""
    f = recipes.feature_transformation_by_arn(p["featureTransformationArn"])
    if f is None:
        raise ResourceNotFoundException(
            f"The given feature transformation does not exist: {p['featureTransformationArn']}")
    return {"featureTransformation": f}
